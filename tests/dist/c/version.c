/* Prints the header's version and the library's name for SA_OK; exits 1 unless the header's
 * version is argv[1]. */
#include <stdio.h>
#include <string.h>

#include <support_access.h>

int main(int argc, char **argv) {
    printf("SUPPORT_ACCESS_VERSION %s (%d.%d.%d), SA_OK is %s\n", SUPPORT_ACCESS_VERSION,
           SUPPORT_ACCESS_VERSION_MAJOR, SUPPORT_ACCESS_VERSION_MINOR, SUPPORT_ACCESS_VERSION_PATCH,
           sa_status_name(SA_OK));
    return argc > 1 && strcmp(argv[1], SUPPORT_ACCESS_VERSION) == 0 ? 0 : 1;
}
