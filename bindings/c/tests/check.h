/*
 * The check macros shared by the C test programs: CHECK counts a pass or prints the failure with
 * the library's last error message; EXPECT compares a status and names both on failure. Each
 * test program is one translation unit, so each gets its own counters.
 */
#ifndef SUPPORT_ACCESS_TESTS_CHECK_H
#define SUPPORT_ACCESS_TESTS_CHECK_H

#include <stdio.h>

#include "support_access.h"

static unsigned long passed, failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);         \
            printf(__VA_ARGS__);                                           \
            const char *m_ = sa_last_error_message();                      \
            printf(" (last error: %s)\n", m_ ? m_ : "(none)");             \
        }                                                                  \
    } while (0)

/* A status check that prints the status names on failure. */
#define EXPECT(call, want)                                                                      \
    do {                                                                                        \
        sa_status got_ = (call);                                                                \
        CHECK(got_ == (want), "%s: got %s, want %s", #call, sa_status_name(got_), sa_status_name(want)); \
    } while (0)

#endif
