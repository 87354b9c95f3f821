"""Compares weightings of the Remez fit (see remez.py): `python3 fit_weighted.py 6`."""
import sys
from remez import *
import numpy as np
n = int(sys.argv[1])
def em1(x): return mp.expm1(x)
res = {}
for name, w in [('relQ', lambda x: 1/g(x)), ('e^r', lambda x: (x*x+mp.mpf('1e-3'))/mp.exp(x)), ('expm1', lambda x: (abs(x)+mp.mpf('1e-4'))*x/em1(x) if x != 0 else mp.mpf('1e-4')), ('expm1b', lambda x: (abs(x)+mp.mpf('1e-2'))*x/em1(x) if x != 0 else mp.mpf('1e-2'))]:
    c, E, me = remez(g, w, n, -a, a)
    M=4000
    grid = [ -a + 2*a*i/M for i in range(M+1)]
    e1 = max(abs((1 + x + x*x*mp.polyval(c[::-1], x) - mp.exp(x))/mp.exp(x)) for x in grid)
    e2 = max(abs((x + x*x*mp.polyval(c[::-1], x) - em1(x))/em1(x)) for x in grid if x != 0)
    print(name, 'e^r', mp.nstr(e1,4), 'expm1', mp.nstr(e2,4))
    if n < 6:
        cs = [np.float32(float(ci)) for ci in c]
        print('  f32', [hex(v.view(np.uint32)) for v in cs])
    else:
        print('  f64', [repr(float(ci)) for ci in c])
