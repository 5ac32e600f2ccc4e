/*
 * numa-facts: print the guest's view of memory, one KEY=VALUE per line:
 *   MEMBLOCK_BYTES=<memory block size>
 *   NODES=<online node ids, comma separated>
 *   NODE<n>_CPUS=<cpulist>  NODE<n>_BYTES=<present memory, whole blocks>
 *   NODE<n>_DISTANCE=<distance row>  NODE<n>_MEMTOTAL_KB=<MemTotal>
 * Sizes are counted in memory blocks so they match the host's -m / memdev
 * sizes exactly, independent of what the kernel reserves for itself.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");

    if (!f) {
        return -1;
    }
    if (!fgets(buf, len, f)) {
        buf[0] = 0;
    }
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

static unsigned long long meminfo_total(int node)
{
    char path[96], line[256];
    unsigned long long kb = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
             node);
    f = fopen(path, "r");
    if (!f) {
        return 0;
    }
    while (fgets(line, sizeof(line), f)) {
        char *p = strstr(line, "MemTotal:");

        if (p) {
            kb = strtoull(p + 9, NULL, 10);
        }
    }
    fclose(f);
    return kb;
}

int main(void)
{
    char buf[4096], path[128];
    unsigned long long block;
    int node;

    if (read_line("/sys/devices/system/memory/block_size_bytes", buf,
                  sizeof(buf))) {
        fprintf(stderr, "numa-facts: no memory block sysfs\n");
        return 1;
    }
    block = strtoull(buf, NULL, 16);
    printf("MEMBLOCK_BYTES=%llu\n", block);
    if (read_line("/sys/devices/system/node/online", buf, sizeof(buf)) == 0) {
        printf("NODES=%s\n", buf);
    }

    for (node = 0; node < 64; node++) {
        unsigned long long blocks = 0;
        struct dirent *de;
        DIR *d;

        snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
        d = opendir(path);
        if (!d) {
            continue;
        }
        while ((de = readdir(d))) {
            if (!strncmp(de->d_name, "memory", 6) &&
                de->d_name[6] >= '0' && de->d_name[6] <= '9') {
                blocks++;
            }
        }
        closedir(d);
        printf("NODE%d_BYTES=%llu\n", node, blocks * block);
        printf("NODE%d_MEMTOTAL_KB=%llu\n", node, meminfo_total(node));
        snprintf(path, sizeof(path),
                 "/sys/devices/system/node/node%d/cpulist", node);
        if (read_line(path, buf, sizeof(buf)) == 0) {
            printf("NODE%d_CPUS=%s\n", node, buf);
        }
        snprintf(path, sizeof(path),
                 "/sys/devices/system/node/node%d/distance", node);
        if (read_line(path, buf, sizeof(buf)) == 0) {
            printf("NODE%d_DISTANCE=%s\n", node, buf);
        }
    }
    return 0;
}
