/* optim.cl - optimizer steps over a network's whole flat parameter buffer: one launch
 * per network per step. Host-side scalars carry the bias correction, so one kernel
 * serves both the Keras 2 and the PyTorch form of Adam:
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= step * m / (sqrt(v) + eps_hat)
 * Keras 2:  step = lr sqrt(1-b2^t)/(1-b1^t), eps_hat = eps
 * PyTorch:  step = lr sqrt(1-b2^t)/(1-b1^t), eps_hat = eps sqrt(1-b2^t)  */

__kernel void adam_step(__global float *p, __global float *m, __global float *v,
                        __global const float *g, int n, float step, float b1, float b2,
                        float eps_hat)
{
    int i = get_global_id(0);
    if (i >= n) return;
    float gi = g[i];
    float mi = b1 * m[i] + (1.0f - b1) * gi;
    float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step * mi / (sqrt(vi) + eps_hat);
}
