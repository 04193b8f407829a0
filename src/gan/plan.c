/* plan.c - what a run needs in memory, added up before anything is allocated, and the
 * check against what is there: the device's total (CL_DEVICE_GLOBAL_MEM_SIZE) and largest
 * allocation (CL_DEVICE_MAX_MEM_ALLOC_SIZE), and the host's available RAM (MemAvailable,
 * or a cgroup's limit; on a CPU device the device's buffers are host RAM too). A refusal
 * names the numbers, the biggest items and what to change. Allocates nothing itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"

static size_t add_sat(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

void clgan_plan_add(clgan_mem_plan *p, const char *what, int device, size_t bytes)
{
    if (device)
        p->device = add_sat(p->device, bytes);
    else
        p->host = add_sat(p->host, bytes);
    for (int i = 0; i < p->n; i++) /* the same item twice (G's and D's optimizer): one line */
        if (p->item[i].device == device && !strcmp(p->item[i].what, what)) {
            p->item[i].bytes = add_sat(p->item[i].bytes, bytes);
            return;
        }
    if (p->n < CLGAN_PLAN_ITEMS) {
        clgan_plan_item *it = &p->item[p->n++];
        snprintf(it->what, sizeof it->what, "%s", what);
        it->device = device;
        it->bytes = bytes;
    }
}

void clgan_plan_largest(clgan_mem_plan *p, const char *what, size_t bytes)
{
    if (bytes > p->largest) {
        p->largest = bytes;
        snprintf(p->largest_what, sizeof p->largest_what, "%s", what);
    }
}

clgan_status clgan_plan_net(clgan_mem_plan *p, clgan_net *layers, const char *name)
{
    clgan_net_plan np;
    char what[48];
    clgan_status st = clgan_net_plan_get(layers, &np);
    if (st != CLGAN_OK)
        return st;
    snprintf(what, sizeof what, "%s (weights, activations)", name);
    clgan_plan_add(p, what, 1, np.device_bytes);
    snprintf(what, sizeof what, "%s's initial weights", name);
    clgan_plan_add(p, what, 0, np.host_bytes);
    snprintf(what, sizeof what, "a buffer of %s", name);
    clgan_plan_largest(p, what, np.largest_bytes);
    return CLGAN_OK;
}

/* The first number of the line of /proc/meminfo that starts with `key`, in bytes; 0 when
 * absent. */
static uint64_t meminfo(const char *key)
{
    char line[256];
    uint64_t v = 0;
    FILE *f = fopen("/proc/meminfo", "r"); /* a kernel file: never a FIFO */
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key))) {
            unsigned long long kb;
            if (sscanf(line + strlen(key), " %llu", &kb) == 1)
                v = (uint64_t)kb * 1024;
            break;
        }
    if (f)
        fclose(f);
    return v;
}

/* A cgroup v2 number file ("max" = none): its value, or 0. */
static uint64_t cgroup_value(const char *path)
{
    char buf[64] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    if (!fgets(buf, sizeof buf, f))
        buf[0] = '\0';
    fclose(f);
    return strncmp(buf, "max", 3) ? strtoull(buf, NULL, 10) : 0;
}

uint64_t clgan_host_mem_available(void)
{
    uint64_t avail = meminfo("MemAvailable:");
    uint64_t limit = cgroup_value("/sys/fs/cgroup/memory.max");
    uint64_t used = cgroup_value("/sys/fs/cgroup/memory.current");
    if (limit && limit > used && (avail == 0 || limit - used < avail))
        avail = limit - used;
    return avail;
}

static void human(char *buf, size_t n, uint64_t bytes)
{
    if (bytes >= (1ull << 30))
        snprintf(buf, n, "%.1f GiB", bytes / 1073741824.0);
    else
        snprintf(buf, n, "%.0f MiB", bytes / 1048576.0 + 0.5);
}

/* The three largest items of one side, "G 2.6 GiB, D 1.1 GiB, ..." into buf. */
static void biggest(char *buf, size_t n, const clgan_mem_plan *p, int device, int also_device)
{
    int used[CLGAN_PLAN_ITEMS] = {0};
    buf[0] = '\0';
    for (int k = 0; k < 3; k++) {
        int best = -1;
        for (int i = 0; i < p->n; i++)
            if (!used[i] && (p->item[i].device == device || (also_device && p->item[i].device)) &&
                (best < 0 || p->item[i].bytes > p->item[best].bytes))
                best = i;
        if (best < 0 || p->item[best].bytes == 0)
            break;
        used[best] = 1;
        char h[32];
        human(h, sizeof h, p->item[best].bytes);
        snprintf(buf + strlen(buf), n - strlen(buf), "%s%s %s", k ? ", " : "", p->item[best].what, h);
    }
}

clgan_status clgan_plan_check(const clgan_mem_plan *p, clgan_ctx *ctx, const char *advice)
{
    const clgan_device_info *d = &clgan_ctx_get(ctx)->dev;
    char need[32], have[32], items[400];
    int cpu = (d->type & CL_DEVICE_TYPE_CPU) != 0;
    if (d->max_alloc && p->largest > d->max_alloc) {
        human(need, sizeof need, p->largest);
        human(have, sizeof have, d->max_alloc);
        return clgan_error(CLGAN_EINVAL, "%s needs one buffer of %s (%s), above the largest "
                           "allocation of %s (%s, CL_DEVICE_MAX_MEM_ALLOC_SIZE): %s", p->what,
                           need, p->largest_what, d->name, have, advice);
    }
    if (d->global_mem && p->device > d->global_mem) {
        human(need, sizeof need, p->device);
        human(have, sizeof have, d->global_mem);
        biggest(items, sizeof items, p, 1, 0);
        return clgan_error(CLGAN_EINVAL, "%s needs %s on the device (%s) and %s has %s "
                           "(CL_DEVICE_GLOBAL_MEM_SIZE): %s", p->what, need, items, d->name,
                           have, advice);
    }
    uint64_t avail = clgan_host_mem_available();
    size_t host = cpu ? add_sat(p->host, p->device) : p->host;
    if (avail && host > avail) {
        human(need, sizeof need, host);
        human(have, sizeof have, avail);
        biggest(items, sizeof items, p, 0, cpu);
        return clgan_error(CLGAN_EINVAL, "%s needs %s of host memory (%s%s) and %s is "
                           "available: %s", p->what, need, items,
                           cpu ? "; a CPU device's buffers are host memory" : "", have, advice);
    }
    return CLGAN_OK;
}
