/*
 * hash.h - string hashing for tables whose keys an attacker may choose.
 *
 * SipHash-2-4 (Aumasson and Bernstein, 2012) under a key drawn at random
 * once per process: without the key nobody can make many strings fall
 * into one bucket, so a table filled from the network stays O(1) per
 * lookup. Thread-safe.
 */
#ifndef LIMRISTEM_HASH_H
#define LIMRISTEM_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The keyed hash of data[0..len). */
uint64_t hash_bytes(const void *data, size_t len);

/* SipHash-2-4 of data[0..len) under key (16 bytes); for the tests. */
uint64_t hash_siphash(const unsigned char key[16], const void *data, size_t len);

#endif
