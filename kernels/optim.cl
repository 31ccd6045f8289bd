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
 *   is OPTIM_SLOTS pointers (params0 .. params15; NULL in unused slots), and start<s>,
 *   count<s> are the first work-group of tensor s (each tensor starts a new group) and its
 *   element count; an unused slot has count 0 and starts at the launch's group count.
 *   SLOT_OF maps a work-item to its tensor and chunk.
 * Scalars are DTYPE kernel arguments; the host derives them in double (1 - beta, bias
 * corrections), as torch.optim does in Python, and converts once. Flags are ints (0 / 1).
 * Each kernel repeats the order of operations of deepx/backend/numpy_optim.py (itself that
 * of torch.optim's single-tensor implementation), so results agree to rounding.
 *
 * optim_sgd(start[], count[], param[], grad[], buf[], lr, momentum, one_minus_dampening,
 *           weight_decay, use_momentum, nesterov, maximize, first_step)
 *     Backend.sgd_step_. g = +-grad + wd * p; with momentum: buf = first_step ? g :
 *     momentum * buf + (1 - dampening) * g, and g = nesterov ? g + momentum * buf : buf;
 *     p -= lr * g.
 * optim_adam(start[], count[], param[], grad[], exp_avg[], exp_avg_sq[], max_exp_avg_sq[],
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
/* An argument list of OPTIM_SLOTS pointers x0 .. x15, and x<s> picked from it (a branch
 * tree: indexing a private array of the pointers made the kernel 3x slower on PoCL). */
#define SLOT_ARGS(T, x) T x##0, T x##1, T x##2, T x##3, T x##4, T x##5, T x##6, T x##7, \
    T x##8, T x##9, T x##10, T x##11, T x##12, T x##13, T x##14, T x##15
#define SLOT_PICK(x, s) ((s) < 8                                                     \
    ? ((s) < 4 ? ((s) < 2 ? ((s) ? x##1 : x##0) : ((s) == 2 ? x##2 : x##3))       \
    : ((s) < 6 ? ((s) == 4 ? x##4 : x##5) : ((s) == 6 ? x##6 : x##7))) \
    : ((s) < 12 ? ((s) < 10 ? ((s) == 8 ? x##8 : x##9) : ((s) == 10 ? x##10 : x##11)) \
    : ((s) < 14 ? ((s) == 12 ? x##12 : x##13) : ((s) == 14 ? x##14 : x##15))))

/* In a multi-tensor kernel: s, the slot of this work-group's tensor (tensors start at
 * work-group boundaries: start0..15 in work-groups, start0 = 0), n its element count and i0
 * the first element of this work-item's chunk. Scalar arguments and a branch tree: an int16
 * of starts read through a private array made the kernel 2x slower on PoCL. */
#define SLOT_OF(s, n, i0)                                                                   \
    int group_ = get_group_id(0);                                                         \
    int s = (group_ >= start1) + (group_ >= start2) + (group_ >= start3)                  \
        + (group_ >= start4) + (group_ >= start5) + (group_ >= start6) + (group_ >= start7) \
        + (group_ >= start8) + (group_ >= start9) + (group_ >= start10)                   \
        + (group_ >= start11) + (group_ >= start12) + (group_ >= start13)                 \
        + (group_ >= start14) + (group_ >= start15);                                      \
    int n = SLOT_PICK(count, s);                                                          \
    int i0 = ((group_ - SLOT_PICK(start, s)) * (int)get_local_size(0)                     \
              + (int)get_local_id(0)) * CHUNK

/* start + w * (end - start), with torch.lerp's two-sided formula for accuracy near w = 1. */
inline VTYPE lerp_torch(VTYPE start, VTYPE end, DTYPE w) {
    return w < (DTYPE)0.5 ? start + w * (end - start) : end - (end - start) * ((DTYPE)1 - w);
}

/* The chunk's gradient as the update uses it: negated to maximize, plus weight_decay * p
 * (L2 decay; torch.optim's order of operations). */
inline VTYPE decayed_grad(__global const DTYPE* grad, int count, VTYPE p, DTYPE weight_decay,
                          int maximize) {
    VTYPE g = chunk_load(grad, count);
    if (maximize) {
        g = -g;
    }
    if (weight_decay != 0) {
        g = g + weight_decay * p;
    }
    return g;
}

/* One chunk of SGD at element i0 (count elements left); buf is NULL without momentum. */
inline void sgd_chunk(__global DTYPE* param, __global const DTYPE* grad, __global DTYPE* buf,
                      int i0, int count, DTYPE lr, DTYPE momentum, DTYPE one_minus_dampening,
                      DTYPE weight_decay, int use_momentum, int nesterov, int maximize,
                      int first_step) {
    VTYPE p = chunk_load(param + i0, count);
    VTYPE g = decayed_grad(grad + i0, count, p, weight_decay, maximize);
    if (use_momentum) {
        VTYPE b = first_step ? g : chunk_load(buf + i0, count) * momentum
                                   + one_minus_dampening * g;
        chunk_store(b, buf + i0, count);
        g = nesterov ? g + momentum * b : b;
    }
    chunk_store(p - lr * g, param + i0, count);
}

/* One chunk of Adam at element i0; max_exp_avg_sq is NULL unless amsgrad. */
inline void adam_chunk(__global DTYPE* param, __global const DTYPE* grad,
                       __global DTYPE* exp_avg, __global DTYPE* exp_avg_sq,
                       __global DTYPE* max_exp_avg_sq, int i0, int count,
                       DTYPE one_minus_beta1, DTYPE beta2, DTYPE one_minus_beta2, DTYPE eps,
                       DTYPE weight_decay, DTYPE decay_factor, DTYPE neg_step_size,
                       DTYPE bias_correction2_sqrt, int amsgrad, int decoupled, int maximize) {
    VTYPE p = chunk_load(param + i0, count);
    VTYPE g = decayed_grad(grad + i0, count, p, decoupled ? (DTYPE)0 : weight_decay, maximize);
    if (decoupled && weight_decay != 0) {  /* AdamW: the decay scales p, not the gradient */
        p = p * decay_factor;
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

__kernel void optim_sgd(SLOT_ARGS(int, start), SLOT_ARGS(int, count),
                        SLOT_ARGS(__global DTYPE*, params),
                        SLOT_ARGS(__global const DTYPE*, grads),
                        SLOT_ARGS(__global DTYPE*, bufs), DTYPE lr, DTYPE momentum,
                        DTYPE one_minus_dampening, DTYPE weight_decay, int use_momentum,
                        int nesterov, int maximize, int first_step) {
    SLOT_OF(s, n, i0);
    if (i0 >= n) {
        return;
    }
    sgd_chunk(SLOT_PICK(params, s), SLOT_PICK(grads, s), SLOT_PICK(bufs, s), i0, n - i0, lr,
              momentum, one_minus_dampening, weight_decay, use_momentum, nesterov, maximize,
              first_step);
}

__kernel void optim_adam(SLOT_ARGS(int, start), SLOT_ARGS(int, count),
                         SLOT_ARGS(__global DTYPE*, params),
                         SLOT_ARGS(__global const DTYPE*, grads),
                         SLOT_ARGS(__global DTYPE*, exp_avgs),
                         SLOT_ARGS(__global DTYPE*, exp_avg_sqs),
                         SLOT_ARGS(__global DTYPE*, max_exp_avg_sqs), DTYPE one_minus_beta1,
                         DTYPE beta2, DTYPE one_minus_beta2, DTYPE eps, DTYPE weight_decay,
                         DTYPE decay_factor, DTYPE neg_step_size,
                         DTYPE bias_correction2_sqrt, int amsgrad, int decoupled,
                         int maximize) {
    SLOT_OF(s, n, i0);
    if (i0 >= n) {
        return;
    }
    adam_chunk(SLOT_PICK(params, s), SLOT_PICK(grads, s), SLOT_PICK(exp_avgs, s),
               SLOT_PICK(exp_avg_sqs, s), SLOT_PICK(max_exp_avg_sqs, s), i0, n - i0,
               one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay, decay_factor,
               neg_step_size, bias_correction2_sqrt, amsgrad, decoupled, maximize);
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
    VTYPE g = decayed_grad(grad + i0, count, p, weight_decay, maximize);
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
    VTYPE g = decayed_grad(grad + i0, count, p, weight_decay, maximize);
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
    VTYPE g = decayed_grad(grad + i0, count, p, weight_decay, maximize);
    VTYPE sq = chunk_load(square_avg + i0, count) * rho + one_minus_rho * g * g;
    chunk_store(sq, square_avg + i0, count);
    VTYPE acc = chunk_load(acc_delta + i0, count);
    VTYPE delta = sqrt(acc + eps) / sqrt(sq + eps) * g;
    chunk_store(acc * rho + one_minus_rho * delta * delta, acc_delta + i0, count);
    chunk_store(p + neg_lr * delta, param + i0, count);
}
