/* reduce.h - prepended to every kernel file after common.h: the local-memory tree sums
 * of the GPU-shaped reductions (column sums in activation.cl, norm.cl, gradpen.cl,
 * reduce.cl; row reductions in loss.cl, gradpen.cl, classify.cl). Static inline only.
 *
 * Column tiles: a work-group of cw x rh work-items in dimension 0 (at most COL_WG; cw
 * and rh powers of two) covers cw neighbouring columns and rh rows: work-item lid is
 * column cx = lid & (cw - 1), row ry = lid / cw, so neighbouring work-items touch
 * neighbouring addresses. Dimension 0 of the launch runs over column groups,
 * dimension 1 (work-groups of 1) over row blocks. (Not (cw, rh) work-groups: PoCL 3.1
 * ran the first work-item's loop twice when the first dimension was 1, as it is for
 * one column. And no lid % cw: clang pairs it with lid / cw through a `freeze`, an
 * instruction oclgrind 21.10's uninitialized-value check cannot run.)
 * Each work-item leaves its own partial sum at s[ry * cw + cx]; the tree adds rows ry
 * and ry + h for h = rh/2, rh/4, ..., 1, so the result (in s[cx]) has the same bits
 * for the same inputs and shape, whatever order the work-items ran in. Every
 * work-item of the group must call these (they hold barriers; and no work-item may
 * return before them, not even all at once: PoCL 3.1 then ran the stores after them
 * on every work-item): work-items past the last column contribute 0. */

/* A work-item's place in a column tile (cw from the host, as clgan_col_shape says). */
typedef struct {
    int cw, rh;     /* tile: columns x rows */
    int cx, ry;     /* this work-item's column and row within the tile */
    int j;          /* its matrix column (may be >= cols: then it only contributes 0) */
    int blk;        /* its row block */
    int blocks;     /* row blocks of the launch */
} col_tile;

static inline col_tile col_tile_get(int cw)
{
    col_tile t;
    const int lid = get_local_id(0);
    t.cw = cw;
    t.rh = get_local_size(0) / cw;
    t.cx = lid & (cw - 1);
    t.ry = lid / cw;
    t.j = get_group_id(0) * cw + t.cx;
    t.blk = get_group_id(1);
    t.blocks = get_num_groups(1);
    return t;
}

/* s[cx] = sum over ry of s[ry * cw + cx]; visible to the whole group on return. */
static inline void col_tree_sum(__local float *s, int cx, int ry, int cw, int rh)
{
    for (int h = rh / 2; h > 0; h >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (ry < h) s[ry * cw + cx] += s[(ry + h) * cw + cx];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

/* The same for two arrays at once (one barrier per level). */
static inline void col_tree_sum2(__local float *a, __local float *b, int cx, int ry, int cw,
                                 int rh)
{
    for (int h = rh / 2; h > 0; h >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (ry < h) {
            a[ry * cw + cx] += a[(ry + h) * cw + cx];
            b[ry * cw + cx] += b[(ry + h) * cw + cx];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

/* Tree sum of `nv` (<= 3) arrays of a 1-D group of `wg` work-items, the arrays laid out
 * one after another in s (s[k * wg + lid]); results in s[k * wg]. */
static inline void group_tree_sum(__local float *s, int nv, int lid, int wg)
{
    for (int h = wg / 2; h > 0; h >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid < h)
            for (int k = 0; k < nv; k++) s[k * wg + lid] += s[k * wg + lid + h];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}
