/* suggest.c - edit distance and the nearest-name collector behind "did you mean"
 * (src/common/suggest.h). No tables of its own: callers offer their names. */
#include "common/suggest.h"

#include <stdio.h>
#include <string.h>

#define CAP 99
#define MAXLEN 64

int clgan_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    int d[MAXLEN + 1][MAXLEN + 1];
    if (n > MAXLEN || m > MAXLEN)
        return CAP;
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m] < CAP ? d[n][m] : CAP;
}

void clgan_suggest_init(clgan_suggest *s, const char *word)
{
    memset(s, 0, sizeof *s);
    s->word = word;
    s->dist = CAP;
}

void clgan_suggest_add(clgan_suggest *s, const char *candidate)
{
    size_t len = strlen(s->word);
    int limit = (int)(len + 2) / 3;
    limit = limit < 1 ? 1 : limit > 3 ? 3 : limit;
    int d = clgan_edit_distance(s->word, candidate);
    if (len >= 3 && d > 1 && !strncmp(candidate, s->word, len))
        d = 1;
    if (d > limit || d > s->dist || d == 0)
        return;
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->best[i], candidate))
            return;
    if (d < s->dist) {
        s->dist = d;
        s->n = 0;
    }
    if (s->n < CLGAN_SUGGEST_MAX)
        s->best[s->n++] = candidate;
}

void clgan_suggest_text(const clgan_suggest *s, const char *prefix, char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    if (!s->n)
        return;
    k += (size_t)snprintf(out, n, "; did you mean ");
    for (int i = 0; i < s->n && k < n; i++)
        k += (size_t)snprintf(out + k, n - k, "%s%s%s", i == 0 ? "" : i == s->n - 1 ? " or " : ", ",
                              prefix, s->best[i]);
    if (k < n)
        snprintf(out + k, n - k, "?");
}
