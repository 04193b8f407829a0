/* suggest.h - "did you mean": the valid names nearest a mistyped one (commands, flags,
 * INI keys, presets, help topics). Private to clgan; prints nothing. */
#ifndef CLGAN_SUGGEST_H
#define CLGAN_SUGGEST_H

#include <stddef.h>

#define CLGAN_SUGGEST_MAX 3

/* Collects the candidates nearest `word`: the fewest single-character edits (insert,
 * delete, replace, swap of neighbours), counting a candidate that starts with `word`
 * (3+ characters) as one edit; only those within about a third of the word's length
 * (1 to 3 edits) are kept, at most CLGAN_SUGGEST_MAX of the best distance, in order
 * offered. Names are borrowed and must outlive the struct. */
typedef struct {
    const char *word;
    const char *best[CLGAN_SUGGEST_MAX];
    int n, dist;
} clgan_suggest;

void clgan_suggest_init(clgan_suggest *s, const char *word);
void clgan_suggest_add(clgan_suggest *s, const char *candidate);

/* Writes "; did you mean --a or --b?" with each name prefixed by `prefix`, or "" when
 * nothing is near, into out (n). */
void clgan_suggest_text(const clgan_suggest *s, const char *prefix, char *out, size_t n);

/* Optimal-string-alignment distance between a and b (capped at 99). */
int clgan_edit_distance(const char *a, const char *b);

#endif
