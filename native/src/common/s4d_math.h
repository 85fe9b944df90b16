// Scalar math of the S4D (diagonal state space) convolution kernel, shared by the CPU kernels and
// the CUDA kernels (cuda/s4d_kernel.cu). Everything here is plain double arithmetic on a tiny complex type, so it
// compiles as host and device code alike.
//
// With x = dt * A (complex, Re x <= 0 in practice), the zero-order-hold kernel is
//   K[l] = 2 Re sum_n C_n dt phi1(x_n) exp(x_n l),     phi1(x) = (exp(x) - 1) / x,
// which equals (exp(dt A) - 1) / A * exp(dt A l) without ever dividing by A: phi1 is smooth at 0, so
// A = 0 (or A_real -> 0 with A_imag = 0) is no special case and nothing overflows.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/host_device.h"

namespace ssmb::s4d {

struct Complex {
    double re, im;
};

SSMB_HOST_DEVICE inline Complex operator+(Complex a, Complex b) { return {a.re + b.re, a.im + b.im}; }
SSMB_HOST_DEVICE inline Complex operator-(Complex a, Complex b) { return {a.re - b.re, a.im - b.im}; }
SSMB_HOST_DEVICE inline Complex operator*(Complex a, Complex b) {
    return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
SSMB_HOST_DEVICE inline Complex operator*(double s, Complex a) { return {s * a.re, s * a.im}; }
SSMB_HOST_DEVICE inline double abs2(Complex a) { return a.re * a.re + a.im * a.im; }

// a / b for b away from 0 (callers guarantee |b| >= 1/2).
SSMB_HOST_DEVICE inline Complex divide(Complex a, Complex b) {
    const double d = abs2(b);
    return {(a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d};
}

// exp(x) with the phase taken directly from Im x (no repeated multiplication anywhere).
SSMB_HOST_DEVICE inline Complex cexp(Complex x) {
    const double m = exp(x.re);
    return {m * cos(x.im), m * sin(x.im)};
}

// exp(x) - 1 without cancellation: Re = expm1(u) cos v - 2 sin^2(v / 2), Im = exp(u) sin v.
SSMB_HOST_DEVICE inline Complex cexpm1(Complex x) {
    const double s = sin(0.5 * x.im);
    return {expm1(x.re) * cos(x.im) - 2.0 * s * s, exp(x.re) * sin(x.im)};
}

// Below this |x|^2 the Taylor series are used: with |x| < 1/2 the 18 terms below reach double precision.
constexpr double kSeriesRadius2 = 0.25;
constexpr int kSeriesTerms = 18;

// phi1(x) = (exp(x) - 1) / x = sum_k x^k / (k + 1)!.
SSMB_HOST_DEVICE inline Complex phi1(Complex x) {
    if (abs2(x) < kSeriesRadius2) {
        Complex r{1.0, 0.0};
        for (int k = kSeriesTerms; k >= 1; --k) r = Complex{1.0, 0.0} + (1.0 / (k + 1)) * (x * r);
        return r;
    }
    return divide(cexpm1(x), x);
}

// phi1'(x) = (exp(x) - phi1(x)) / x = sum_m (m + 1) x^m / (m + 2)!, evaluated as nested ratios
// (term m+1 / term m = x (m + 2) / ((m + 1)(m + 3))) near 0, where the closed form cancels. Takes the
// already computed phi1(x) and exp(x).
SSMB_HOST_DEVICE inline Complex phi1_derivative(Complex x, Complex phi, Complex exp_x) {
    if (abs2(x) < kSeriesRadius2) {
        Complex s{1.0, 0.0};
        for (int m = kSeriesTerms - 1; m >= 0; --m)
            s = Complex{1.0, 0.0} + (double(m + 2) / (double(m + 1) * double(m + 3))) * (x * s);
        return 0.5 * s;
    }
    return divide(exp_x - phi, x);
}

// Per-mode factors of one kernel row: x = dt A, phi1(x), z = exp(x), and the weight W = C dt phi1(x)
// of exp(x l).
struct Mode {
    Complex x, phi, z, weight;
};

SSMB_HOST_DEVICE inline Mode make_mode(double dt, double A_real, double A_imag, double C_real, double C_imag) {
    Mode m;
    m.x = Complex{dt * A_real, dt * A_imag};
    m.phi = phi1(m.x);
    m.z = cexp(m.x);
    m.weight = dt * (Complex{C_real, C_imag} * m.phi);
    return m;
}

// exp(x l) computed directly (the anchor of a block of steps).
SSMB_HOST_DEVICE inline Complex power_at(Complex x, int64_t l) {
    const double t = static_cast<double>(l);
    return cexp(Complex{x.re * t, x.im * t});
}

// Gradients of one mode given S0 = sum_l dK[l] exp(x l) and S1 = sum_l dK[l] l exp(x l).
// With F(l) = dt phi1(x) exp(x l) (holomorphic in A) and K = 2 Re sum C F:
//   dC_real = 2 Re(dt phi1 S0),                     dC_imag = -2 Im(dt phi1 S0)
//   Q = C dt^2 (phi1'(x) S0 + phi1(x) S1),          dA_real = 2 Re Q,   dA_imag = -2 Im Q
//   dK/d(dt) = exp(x l) (exp(x) + x phi1(x) l)      (since d/dx [x phi1(x)] = exp(x)),
//   dlog_dt contribution = dt 2 Re(C (exp(x) S0 + x phi1(x) S1)).
struct ModeGrad {
    double dlog_dt, dA_real, dA_imag, dC_real, dC_imag;
};

SSMB_HOST_DEVICE inline ModeGrad mode_gradient(double dt, const Mode& m, Complex C, Complex S0, Complex S1) {
    const Complex p = m.phi, dp = phi1_derivative(m.x, m.phi, m.z);
    const Complex g = dt * (p * S0);
    const Complex q = (dt * dt) * (C * (dp * S0 + p * S1));
    const Complex r = C * (m.z * S0 + (m.x * p) * S1);
    return ModeGrad{2.0 * dt * r.re, 2.0 * q.re, -2.0 * q.im, 2.0 * g.re, -2.0 * g.im};
}

}  // namespace ssmb::s4d
