/*
 * unit.h - what every unit test includes: cmocka and its prerequisites.
 */
#ifndef LIMRISTEM_UNIT_H
#define LIMRISTEM_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

#endif
