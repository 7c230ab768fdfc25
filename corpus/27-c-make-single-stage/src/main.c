#include <stdio.h>
#include <string.h>
#include "crc32.h"

/* crc32sum: print the CRC-32 of each argument, or of stdin when there is none. */
int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            uint32_t c = crc32_update(0, (const unsigned char *)argv[i], strlen(argv[i]));
            printf("%08x  %s\n", c, argv[i]);
        }
        return 0;
    }
    unsigned char buf[4096];
    size_t n;
    uint32_t c = 0;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        c = crc32_update(c, buf, n);
    if (ferror(stdin)) {
        perror("crc32sum");
        return 1;
    }
    printf("%08x  -\n", c);
    return 0;
}
