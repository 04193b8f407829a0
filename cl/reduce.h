/* reduce.h - prepended to every kernel file after common.h: the local-memory tree sums
 * of the GPU-shaped reductions (column sums in activation.cl, norm.cl, gradpen.cl,
 * reduce.cl; row reductions in loss.cl, gradpen.cl, classify.cl). Static inline only.
 *
 * Column tiles: a work-group is cw x rh work-items (cw = get_local_size(0) neighbouring
 * columns, so neighbouring work-items touch neighbouring addresses; rh =
 * get_local_size(1) rows, a power of two), at most COL_WG in all. Each work-item
 * leaves its own partial sum at s[ry * cw + cx]; the tree adds rows ry and ry + h for
 * h = rh/2, rh/4, ..., 1, so the result (in s[cx]) has the same bits for the same
 * inputs and shape, whatever order the work-items ran in. Every work-item of the group
 * must call these (they hold barriers): work-items past the last column contribute 0. */

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
