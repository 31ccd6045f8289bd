/* layout.cl: strided copies, the one mechanism behind permute, expand, slice, pad and cat.
 *
 * Build options: -D DTYPE=<element type>.
 * Geometry: 1-D, one work-item per element of the view (n = prod(shape)), global size
 * rounded up to the local size; every kernel guards i < n. Size-0 views are never launched.
 * `shape`/`strides` describe the view in elements (up to 8 dims, unused dims 0; the host
 * merges dims that are contiguous in the view first); `offset` is the view's first element.
 *
 * layout_strided_copy(n, ndim, shape, strides, offset, src, out)
 *     out[i] = src[offset + sum(idx(i) * strides)], out C-contiguous;
 *     matches NumpyBackend.strided_copy.
 * layout_strided_assign(n, ndim, shape, strides, offset, src, dst)
 *     dst[offset + sum(idx(i) * strides)] = src[i], src C-contiguous with the view's shape;
 *     matches NumpyBackend.strided_assign_. Assumes the view does not hit one element twice
 *     (true of every basic slice; NumPy itself leaves such writes unordered).
 */
#include "common.h"

__kernel void layout_strided_copy(int n, int ndim, int8 shape, int8 strides, int offset,
                                  __global const DTYPE* src, __global DTYPE* out) {
    int i = get_global_id(0);
    if (i >= n) return;
    int dims[MAX_DIMS], st[MAX_DIMS];
    load_dims(shape, dims);
    load_dims(strides, st);
    out[i] = src[offset + strided_offset(i, ndim, dims, st)];
}

__kernel void layout_strided_assign(int n, int ndim, int8 shape, int8 strides, int offset,
                                    __global const DTYPE* src, __global DTYPE* dst) {
    int i = get_global_id(0);
    if (i >= n) return;
    int dims[MAX_DIMS], st[MAX_DIMS];
    load_dims(shape, dims);
    load_dims(strides, st);
    dst[offset + strided_offset(i, ndim, dims, st)] = src[i];
}
