"""Remez exchange (mpmath, 50 digits) for the exponential polynomial of src/activation.rs.

Fits P of degree n minimising the weighted error of P(r) against g(r) = (e^r - 1 - r)/r^2 on
[-ln2/2, ln2/2], so that e^r = 1 + r + r^2 P(r). `python3 remez.py 6` prints the degree-6
(f32) coefficients, `python3 remez.py 11` the f64 ones; fit_weighted.py tries the weightings
compared while choosing them (relative error of e^r, of expm1). Needs `pip install mpmath`.
Not run by CI; the accuracy of the coefficients in the crate is checked exhaustively by
tests/activation_accuracy.rs.
"""
import mpmath as mp
mp.mp.dps = 50
import sys
a = mp.log(2)/2
def g(r):
    if abs(r) < mp.mpf('1e-20'):
        return mp.mpf(1)/2 + r/6
    return (mp.exp(r) - 1 - r)/r**2
def remez(f, w, n, lo, hi, iters=30):
    # minimize max |w(x)(P(x)-f(x))|, P degree n
    N = n + 2
    xs = [ (lo+hi)/2 - (hi-lo)/2*mp.cos(mp.pi*i/(N-1)) for i in range(N)]
    for it in range(iters):
        A = mp.matrix(N, N); b = mp.matrix(N,1)
        for i,x in enumerate(xs):
            for j in range(n+1):
                A[i,j] = x**j
            A[i,n+1] = (-1)**i / w(x)
            b[i] = f(x)
        sol = mp.lu_solve(A, b)
        c = [sol[j] for j in range(n+1)]; E = sol[n+1]
        err = lambda x: w(x)*(mp.polyval(c[::-1], x) - f(x))
        # find extrema on dense grid
        M = 4000
        grid = [lo + (hi-lo)*i/M for i in range(M+1)]
        ev = [err(x) for x in grid]
        ext = []
        for i in range(M+1):
            if i==0 or i==M or (ev[i]-ev[i-1])*(ev[i+1]-ev[i]) <= 0:
                ext.append((grid[i], ev[i]))
        # choose alternating set of size N with max abs
        # merge consecutive same-sign keeping largest
        merged = []
        for x,e in ext:
            if merged and mp.sign(merged[-1][1]) == mp.sign(e):
                if abs(e) > abs(merged[-1][1]): merged[-1] = (x,e)
            else:
                merged.append((x,e))
        while len(merged) > N:
            if abs(merged[0][1]) < abs(merged[-1][1]): merged.pop(0)
            else: merged.pop()
        if len(merged) < N: break
        xs = [x for x,e in merged]
        maxerr = max(abs(e) for x,e in merged)
    return c, E, maxerr
if __name__ == '__main__':
    n = int(sys.argv[1])
    c, E, me = remez(g, lambda x: 1/g(x), n, -a, a)
    print('deg', n, 'E', mp.nstr(E, 5), 'max', mp.nstr(me,5))
    for ci in c: print(mp.nstr(ci, 30))
