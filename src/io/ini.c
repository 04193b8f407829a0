/* ini.c - the INI dialect of clgan's config files, presets and config.ini: [section],
 * key = value (or key: value), ; and # comments, " ;" inline comments; no line length
 * limit. Hands (section, key, value, line) to a callback; knows no setting.
 *
 * Why not inih (Debian's libinih, used before): its lines are cut at 200 bytes, so a long
 * --data path written into config.ini read back as two lines; its multi-line values made an
 * indented line silently continue the previous key; and it stopped reading at a NUL byte.
 * This dialect refuses the last two, naming the line, and has no line limit. */
#include "clgan/io.h"

#include <stdlib.h>
#include <string.h>

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Trims blanks (and a trailing \r) from both ends of [*b, *e). */
static void trim(const char **b, const char **e)
{
    while (*b < *e && is_blank(**b))
        (*b)++;
    while (*e > *b && (is_blank((*e)[-1]) || (*e)[-1] == '\r'))
        (*e)--;
}

/* The end of the text before an inline comment: a ';' that follows a blank. */
static const char *cut_comment(const char *b, const char *e)
{
    for (const char *p = b; p < e; p++)
        if (*p == ';' && p > b && is_blank(p[-1]))
            return p;
    return e;
}

/* A copy of [b, e) as a C string into *buf (grown as needed); NULL when out of memory. */
static char *copy(char **buf, size_t *cap, const char *b, const char *e)
{
    size_t n = (size_t)(e - b);
    if (n + 1 > *cap) {
        char *g = realloc(*buf, n + 1);
        if (!g)
            return NULL;
        *buf = g;
        *cap = n + 1;
    }
    memcpy(*buf, b, n);
    (*buf)[n] = '\0';
    return *buf;
}

clgan_status clgan_ini_parse(const char *text, size_t len, const char *origin,
                             clgan_ini_entry_fn on_entry, void *user)
{
    char *section = NULL, *key = NULL, *value = NULL;
    size_t sc = 0, kc = 0, vc = 0;
    clgan_status st = CLGAN_OK;
    const char *p = text, *end = text + len;
    int line = 0;
    if (!copy(&section, &sc, p, p))
        return clgan_error(CLGAN_ENOMEM, "%s: out of memory", origin);
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) /* a UTF-8 byte order mark */
        p += 3;
    while (p < end && st == CLGAN_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
        const char *b = p, *e = le, *nul = memchr(p, '\0', (size_t)(le - p));
        line++;
        p = nl ? nl + 1 : end;
        if (nul) {
            st = clgan_error(CLGAN_EFORMAT, "%s:%d: a NUL byte at column %d (not a text file?)",
                             origin, line, (int)(nul - b) + 1);
            break;
        }
        int indented = b < e && is_blank(*b);
        trim(&b, &e);
        if (b == e || *b == ';' || *b == '#')
            continue;
        if (indented) {
            st = clgan_error(CLGAN_EFORMAT, "%s:%d: an indented line (continuation lines are not "
                             "supported: they would silently extend the previous value); remove "
                             "the indentation", origin, line);
            break;
        }
        if (*b == '[') {
            const char *close = memchr(b, ']', (size_t)(e - b)), *rest;
            if (!close) {
                st = clgan_error(CLGAN_EFORMAT, "%s:%d: a section header without ']'", origin, line);
                break;
            }
            rest = close + 1;
            trim(&rest, &e);
            if (rest < e && *rest != ';' && *rest != '#') {
                st = clgan_error(CLGAN_EFORMAT, "%s:%d: text after the section header", origin, line);
                break;
            }
            const char *nb = b + 1, *ne = close;
            trim(&nb, &ne);
            if (!copy(&section, &sc, nb, ne))
                st = clgan_error(CLGAN_ENOMEM, "%s: out of memory", origin);
            continue;
        }
        const char *eq = b;
        while (eq < e && *eq != '=' && *eq != ':')
            eq++;
        if (eq == e) {
            st = clgan_error(CLGAN_EFORMAT, "%s:%d: not valid INI syntax (expected [section], "
                             "key = value, or a ; comment)", origin, line);
            break;
        }
        const char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;
        trim(&kb, &ke);
        trim(&vb, &ve);
        /* Like inih: a ';' opens a comment only after a blank inside the value, so a value
         * may start with ';' (and "key = ;x" written back reads as ";x": found by
         * tests/fuzz/fuzz_ini.c). */
        ve = cut_comment(vb, ve);
        trim(&vb, &ve);
        if (kb == ke) {
            st = clgan_error(CLGAN_EFORMAT, "%s:%d: a value without a key", origin, line);
            break;
        }
        if (!copy(&key, &kc, kb, ke) || !copy(&value, &vc, vb, ve)) {
            st = clgan_error(CLGAN_ENOMEM, "%s: out of memory", origin);
            break;
        }
        if ((st = on_entry(user, section, key, value)) != CLGAN_OK)
            clgan_error_wrap(st, "%s:%d", origin, line);
    }
    free(section);
    free(key);
    free(value);
    return st;
}
