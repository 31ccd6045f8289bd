/* optim.cl: fused optimizer steps, updating a parameter and its state in place.
 *
 * Build options: -D DTYPE=<float|double>, the parameter's dtype (nothing else).
 * Geometry: 1-D, one work-item per chunk of CHUNK (-D by the host) consecutive parameter elements
 * (OpenCLBackend.launch_chunks): global size ceil(n / CHUNK) rounded up by the host to a
 * multiple of the local size; every kernel guards its chunk's start against n, and the last
 * chunk may be ragged. Each work-item branches on the flags once and updates its chunk with
 * vector types: per-element branches on them stopped PoCL from vectorising (5-10x slower).
 * Size-0 parameters are never launched.
 * Arguments: param, grad and the state buffers are distinct C-contiguous arrays of n
 * elements. A state buffer the options leave unused is passed as NULL and never touched.
 * Multi-tensor kernels (optim_sgd, optim_adam; torch's _fused_sgd_ / _fused_adam_, apex's
 *   multi_tensor_apply): one launch updates up to OPTIM_SLOTS tensors. Each array argument
 *   is OPTIM_SLOTS pointers (param0 .. param15; NULL in unused slots). chunk_starts[s] is the
 *   first chunk (work-item) of tensor s, sizes[s] its element count; an unused slot has
 *   size 0 and starts at the launch's chunk count. slot_of() maps a work-item to its tensor.
 * Scalars are DTYPE kernel arguments; the host derives them in double (1 - beta, bias
 * corrections), as torch.optim does in Python, and converts once. Flags are ints (0 / 1).
 * Each kernel repeats the order of operations of deepx/backend/numpy_optim.py (itself that
 * of torch.optim's single-tensor implementation), so results agree to rounding.
 *
 * optim_sgd(chunk_starts, sizes, param[], grad[], buf[], lr, momentum, one_minus_dampening,
 *           weight_decay, use_momentum, nesterov, maximize, first_step)
 *     Backend.sgd_step_. g = +-grad + wd * p; with momentum: buf = first_step ? g :
 *     momentum * buf + (1 - dampening) * g, and g = nesterov ? g + momentum * buf : buf;
 *     p -= lr * g.
 * optim_adam(chunk_starts, sizes, param[], grad[], exp_avg[], exp_avg_sq[], max_exp_avg_sq[],
 *            one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay, decay_factor,
 *            neg_step_size, bias_correction2_sqrt, amsgrad, decoupled, maximize)
 *     Backend.adam_step_ (Adam, AdamW when decoupled). decay_factor = 1 - lr * wd,
 *     neg_step_size = -lr / (1 - beta1^t), bias_correction2_sqrt = sqrt(1 - beta2^t).
 *     max_exp_avg_sq is NULL unless amsgrad.
 * optim_rmsprop(n, param, grad, square_avg, grad_avg, buf, lr, alpha, one_minus_alpha, eps,
 *               weight_decay, momentum, centered, use_momentum, maximize)
 *     Backend.rmsprop_step_. grad_avg is NULL unless centered, buf NULL unless momentum > 0.
 * optim_adagrad(n, param, grad, state_sum, neg_clr, weight_decay, eps, maximize)
 *     Backend.adagrad_step_. neg_clr = -lr / (1 + (t - 1) * lr_decay). sum += g * g;
 *     p += neg_clr * (g / (sqrt(sum) + eps)).
 * optim_adadelta(n, param, grad, square_avg, acc_delta, neg_lr, rho, one_minus_rho, eps,
 *                weight_decay, maximize)
 *     Backend.adadelta_step_. sq = rho sq + (1 - rho) g^2; d = sqrt(acc + eps) / sqrt(sq + eps)
 *     * g; acc = rho acc + (1 - rho) d^2; p += neg_lr * d.
 */
#include "chunk.h"

#define OPTIM_SLOTS 16
/* An argument list of OPTIM_SLOTS pointers x0 .. x15, and the private array of them. */
#define SLOT_ARGS(T, x) T x##0, T x##1, T x##2, T x##3, T x##4, T x##5, T x##6, T x##7, \
    T x##8, T x##9, T x##10, T x##11, T x##12, T x##13, T x##14, T x##15
#define SLOT_ARRAY(T, x) T x[OPTIM_SLOTS] = {x##0, x##1, x##2, x##3, x##4, x##5, x##6, x##7, \
    x##8, x##9, x##10, x##11, x##12, x##13, x##14, x##15}

/* The slot of this work-item's chunk, its first element *i0 and the elements left in the
 * tensor from there *count; -1 for a work-item past every tensor (global size rounding). */
inline int slot_of(int16 chunk_starts, int16 sizes, int* i0, int* count) {
    int c = get_global_id(0);
    int starts[OPTIM_SLOTS], n[OPTIM_SLOTS];
    vstore16(chunk_starts, 0, starts);
    vstore16(sizes, 0, n);
    int s = 0;
    while (s + 1 < OPTIM_SLOTS && c >= starts[s + 1]) ++s;
    *i0 = (c - starts[s]) * CHUNK;
    *count = n[s] - *i0;
    return *count > 0 ? s : -1;
}

/* start + w * (end - start), with torch.lerp's two-sided formula for accuracy near w = 1. */
inline VTYPE lerp_torch(VTYPE start, VTYPE end, DTYPE w) {
    return w < (DTYPE)0.5 ? start + w * (end - start) : end - (end - start) * ((DTYPE)1 - w);
}

__kernel void optim_sgd(int16 chunk_starts, int16 sizes, SLOT_ARGS(__global DTYPE*, params),
                        SLOT_ARGS(__global const DTYPE*, grads),
                        SLOT_ARGS(__global DTYPE*, bufs), DTYPE lr, DTYPE momentum,
                        DTYPE one_minus_dampening, DTYPE weight_decay, int use_momentum,
                        int nesterov, int maximize, int first_step) {
    int i0, count, s = slot_of(chunk_starts, sizes, &i0, &count);
    if (s < 0) {
        return;
    }
    SLOT_ARRAY(__global DTYPE*, params);
    SLOT_ARRAY(__global const DTYPE*, grads);
    SLOT_ARRAY(__global DTYPE*, bufs);
    __global DTYPE* param = params[s];
    __global const DTYPE* grad = grads[s];
    __global DTYPE* buf = bufs[s];
    VTYPE p = chunk_load(param + i0, count);
    VTYPE g = chunk_load(grad + i0, count);
    if (maximize) {
        g = -g;
    }
    if (weight_decay != 0) {
        g = g + weight_decay * p;
    }
    if (use_momentum) {
        VTYPE b = first_step ? g : chunk_load(buf + i0, count) * momentum
                                   + one_minus_dampening * g;
        chunk_store(b, buf + i0, count);
        g = nesterov ? g + momentum * b : b;
    }
    chunk_store(p - lr * g, param + i0, count);
}

__kernel void optim_adam(int16 chunk_starts, int16 sizes, SLOT_ARGS(__global DTYPE*, params),
                         SLOT_ARGS(__global const DTYPE*, grads),
                         SLOT_ARGS(__global DTYPE*, exp_avgs),
                         SLOT_ARGS(__global DTYPE*, exp_avg_sqs),
                         SLOT_ARGS(__global DTYPE*, max_exp_avg_sqs), DTYPE one_minus_beta1,
                         DTYPE beta2, DTYPE one_minus_beta2, DTYPE eps, DTYPE weight_decay,
                         DTYPE decay_factor, DTYPE neg_step_size,
                         DTYPE bias_correction2_sqrt, int amsgrad, int decoupled,
                         int maximize) {
    int i0, count, s = slot_of(chunk_starts, sizes, &i0, &count);
    if (s < 0) {
        return;
    }
    SLOT_ARRAY(__global DTYPE*, params);
    SLOT_ARRAY(__global const DTYPE*, grads);
    SLOT_ARRAY(__global DTYPE*, exp_avgs);
    SLOT_ARRAY(__global DTYPE*, exp_avg_sqs);
    SLOT_ARRAY(__global DTYPE*, max_exp_avg_sqs);
    __global DTYPE* param = params[s];
    __global const DTYPE* grad = grads[s];
    __global DTYPE* exp_avg = exp_avgs[s];
    __global DTYPE* exp_avg_sq = exp_avg_sqs[s];
    __global DTYPE* max_exp_avg_sq = max_exp_avg_sqs[s];
    VTYPE p = chunk_load(param + i0, count);
    VTYPE g = chunk_load(grad + i0, count);
    if (maximize) {
        g = -g;
    }
    if (weight_decay != 0) {
        if (decoupled) {
            p = p * decay_factor;
        } else {
            g = g + weight_decay * p;
        }
    }
    VTYPE m = lerp_torch(chunk_load(exp_avg + i0, count), g, one_minus_beta1);
    VTYPE v = chunk_load(exp_avg_sq + i0, count) * beta2 + one_minus_beta2 * g * g;
    chunk_store(m, exp_avg + i0, count);
    chunk_store(v, exp_avg_sq + i0, count);
    if (amsgrad) {
        VTYPE v_max = chunk_load(max_exp_avg_sq + i0, count);
        v = select(v, v_max, GT_NAN(v_max, v));  /* NaN-propagating, as np.maximum */
        chunk_store(v, max_exp_avg_sq + i0, count);
    }
    VTYPE denom = sqrt(v) / bias_correction2_sqrt + eps;
    chunk_store(p + neg_step_size * m / denom, param + i0, count);
}

__kernel void optim_rmsprop(int n, __global DTYPE* param, __global const DTYPE* grad,
                            __global DTYPE* square_avg, __global DTYPE* grad_avg,
                            __global DTYPE* buf, DTYPE lr, DTYPE alpha, DTYPE one_minus_alpha,
                            DTYPE eps, DTYPE weight_decay, DTYPE momentum, int centered,
                            int use_momentum, int maximize) {
    int i0 = get_global_id(0) * CHUNK;
    if (i0 >= n) {
        return;
    }
    int count = n - i0;
    VTYPE p = chunk_load(param + i0, count);
    VTYPE g = chunk_load(grad + i0, count);
    if (maximize) {
        g = -g;
    }
    if (weight_decay != 0) {
        g = g + weight_decay * p;
    }
    VTYPE sq = chunk_load(square_avg + i0, count) * alpha + one_minus_alpha * g * g;
    chunk_store(sq, square_avg + i0, count);
    VTYPE avg;
    if (centered) {
        VTYPE mean = lerp_torch(chunk_load(grad_avg + i0, count), g, one_minus_alpha);
        chunk_store(mean, grad_avg + i0, count);
        avg = sqrt(sq - mean * mean) + eps;
    } else {
        avg = sqrt(sq) + eps;
    }
    if (use_momentum) {
        VTYPE b = chunk_load(buf + i0, count) * momentum + g / avg;
        chunk_store(b, buf + i0, count);
        chunk_store(p - lr * b, param + i0, count);
    } else {
        chunk_store(p + (-lr) * g / avg, param + i0, count);
    }
}

__kernel void optim_adagrad(int n, __global DTYPE* param, __global const DTYPE* grad,
                            __global DTYPE* state_sum, DTYPE neg_clr, DTYPE weight_decay,
                            DTYPE eps, int maximize) {
    int i0 = get_global_id(0) * CHUNK;
    if (i0 >= n) {
        return;
    }
    int count = n - i0;
    VTYPE p = chunk_load(param + i0, count);
    VTYPE g = chunk_load(grad + i0, count);
    if (maximize) {
        g = -g;
    }
    if (weight_decay != 0) {
        g = g + weight_decay * p;
    }
    VTYPE sum = chunk_load(state_sum + i0, count) + g * g;
    chunk_store(sum, state_sum + i0, count);
    chunk_store(p + neg_clr * (g / (sqrt(sum) + eps)), param + i0, count);
}

__kernel void optim_adadelta(int n, __global DTYPE* param, __global const DTYPE* grad,
                             __global DTYPE* square_avg, __global DTYPE* acc_delta,
                             DTYPE neg_lr, DTYPE rho, DTYPE one_minus_rho, DTYPE eps,
                             DTYPE weight_decay, int maximize) {
    int i0 = get_global_id(0) * CHUNK;
    if (i0 >= n) {
        return;
    }
    int count = n - i0;
    VTYPE p = chunk_load(param + i0, count);
    VTYPE g = chunk_load(grad + i0, count);
    if (maximize) {
        g = -g;
    }
    if (weight_decay != 0) {
        g = g + weight_decay * p;
    }
    VTYPE sq = chunk_load(square_avg + i0, count) * rho + one_minus_rho * g * g;
    chunk_store(sq, square_avg + i0, count);
    VTYPE acc = chunk_load(acc_delta + i0, count);
    VTYPE delta = sqrt(acc + eps) / sqrt(sq + eps) * g;
    chunk_store(acc * rho + one_minus_rho * delta * delta, acc_delta + i0, count);
    chunk_store(p + neg_lr * delta, param + i0, count);
}
