#include "crc32.h"

/* Bitwise CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320). */
uint32_t crc32_update(uint32_t crc, const unsigned char *buf, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= buf[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}
