/* optim.cl: fused optimizer steps, updating a parameter and its state in place.
 *
 * Build options: -D DTYPE=<float|double>, the parameter's dtype (nothing else).
 * Geometry: 1-D, one work-item per parameter element; the host rounds the global size n up to
 * a multiple of the local size and every kernel guards i < n. Size-0 parameters are never
 * launched.
 * Arguments: param, grad and the state buffers are distinct C-contiguous arrays of n
 * elements. A state buffer the options leave unused is passed as NULL and never touched.
 * Scalars are DTYPE kernel arguments; the host derives them in double (1 - beta, bias
 * corrections), as torch.optim does in Python, and converts once. Flags are ints (0 / 1).
 * Each kernel repeats the order of operations of deepx/backend/numpy_optim.py (itself that
 * of torch.optim's single-tensor implementation), so results agree to rounding.
 *
 * optim_sgd(n, param, grad, buf, lr, momentum, one_minus_dampening, weight_decay,
 *           use_momentum, nesterov, maximize, first_step)
 *     Backend.sgd_step_. g = +-grad + wd * p; with momentum: buf = first_step ? g :
 *     momentum * buf + (1 - dampening) * g, and g = nesterov ? g + momentum * buf : buf;
 *     p -= lr * g.
 * optim_adam(n, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, one_minus_beta1, beta2,
 *            one_minus_beta2, eps, weight_decay, decay_factor, neg_step_size,
 *            bias_correction2_sqrt, amsgrad, decoupled, maximize)
 *     Backend.adam_step_ (Adam, AdamW when decoupled). decay_factor = 1 - lr * wd,
 *     neg_step_size = -lr / (1 - beta1^t), bias_correction2_sqrt = sqrt(1 - beta2^t).
 *     max_exp_avg_sq is NULL unless amsgrad.
 * optim_rmsprop(n, param, grad, square_avg, grad_avg, buf, lr, alpha, one_minus_alpha, eps,
 *               weight_decay, momentum, centered, use_momentum, maximize)
 *     Backend.rmsprop_step_. grad_avg is NULL unless centered, buf NULL unless momentum > 0.
 */
#include "common.h"

/* start + w * (end - start), with torch.lerp's two-sided formula for accuracy near w = 1. */
inline DTYPE lerp_torch(DTYPE start, DTYPE end, DTYPE w) {
    return w < (DTYPE)0.5 ? start + w * (end - start) : end - (end - start) * ((DTYPE)1 - w);
}

__kernel void optim_sgd(int n, __global DTYPE* param, __global const DTYPE* grad,
                        __global DTYPE* buf, DTYPE lr, DTYPE momentum,
                        DTYPE one_minus_dampening, DTYPE weight_decay, int use_momentum,
                        int nesterov, int maximize, int first_step) {
    int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    DTYPE p = param[i];
    DTYPE g = maximize ? -grad[i] : grad[i];
    if (weight_decay != 0) {
        g = g + weight_decay * p;
    }
    if (use_momentum) {
        DTYPE b = first_step ? g : buf[i] * momentum + one_minus_dampening * g;
        buf[i] = b;
        g = nesterov ? g + momentum * b : b;
    }
    param[i] = p - lr * g;
}

__kernel void optim_adam(int n, __global DTYPE* param, __global const DTYPE* grad,
                         __global DTYPE* exp_avg, __global DTYPE* exp_avg_sq,
                         __global DTYPE* max_exp_avg_sq, DTYPE one_minus_beta1, DTYPE beta2,
                         DTYPE one_minus_beta2, DTYPE eps, DTYPE weight_decay,
                         DTYPE decay_factor, DTYPE neg_step_size,
                         DTYPE bias_correction2_sqrt, int amsgrad, int decoupled,
                         int maximize) {
    int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    DTYPE p = param[i];
    DTYPE g = maximize ? -grad[i] : grad[i];
    if (weight_decay != 0) {
        if (decoupled) {
            p = p * decay_factor;
        } else {
            g = g + weight_decay * p;
        }
    }
    DTYPE m = lerp_torch(exp_avg[i], g, one_minus_beta1);
    DTYPE v = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    if (amsgrad) {
        DTYPE v_max = max_exp_avg_sq[i];
        v = (v_max > v || isnan(v_max)) ? v_max : v;  /* NaN-propagating, as np.maximum */
        max_exp_avg_sq[i] = v;
    }
    DTYPE denom = sqrt(v) / bias_correction2_sqrt + eps;
    param[i] = p + neg_step_size * m / denom;
}

__kernel void optim_rmsprop(int n, __global DTYPE* param, __global const DTYPE* grad,
                            __global DTYPE* square_avg, __global DTYPE* grad_avg,
                            __global DTYPE* buf, DTYPE lr, DTYPE alpha, DTYPE one_minus_alpha,
                            DTYPE eps, DTYPE weight_decay, DTYPE momentum, int centered,
                            int use_momentum, int maximize) {
    int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    DTYPE p = param[i];
    DTYPE g = maximize ? -grad[i] : grad[i];
    if (weight_decay != 0) {
        g = g + weight_decay * p;
    }
    DTYPE sq = square_avg[i] * alpha + one_minus_alpha * g * g;
    square_avg[i] = sq;
    DTYPE avg;
    if (centered) {
        DTYPE mean = lerp_torch(grad_avg[i], g, one_minus_alpha);
        grad_avg[i] = mean;
        avg = sqrt(sq - mean * mean) + eps;
    } else {
        avg = sqrt(sq) + eps;
    }
    if (use_momentum) {
        DTYPE b = buf[i] * momentum + g / avg;
        buf[i] = b;
        param[i] = p - lr * b;
    } else {
        param[i] = p + (-lr) * g / avg;
    }
}
