package detect

import (
	"errors"
	"math"
	"sort"
)

// Small dense symmetric linear algebra for IR-MAD: matrices are row-major n×n []float64.

// cholesky returns the lower-triangular L with a = L Lᵀ.
func cholesky(a []float64, n int) ([]float64, error) {
	l := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			s := a[i*n+j]
			for k := 0; k < j; k++ {
				s -= l[i*n+k] * l[j*n+k]
			}
			if i == j {
				if s <= 0 || math.IsNaN(s) {
					return nil, errors.New("detect: covariance matrix is not positive definite (a constant or duplicated band?)")
				}
				l[i*n+i] = math.Sqrt(s)
			} else {
				l[i*n+j] = s / l[j*n+j]
			}
		}
	}
	return l, nil
}

// invLower inverts a lower-triangular matrix.
func invLower(l []float64, n int) []float64 {
	inv := make([]float64, n*n)
	for i := 0; i < n; i++ {
		inv[i*n+i] = 1 / l[i*n+i]
		for j := 0; j < i; j++ {
			s := 0.0
			for k := j; k < i; k++ {
				s -= l[i*n+k] * inv[k*n+j]
			}
			inv[i*n+j] = s / l[i*n+i]
		}
	}
	return inv
}

// matMul returns a·b for n×n matrices.
func matMul(a, b []float64, n int) []float64 {
	c := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for k := 0; k < n; k++ {
			aik := a[i*n+k]
			if aik == 0 {
				continue
			}
			for j := 0; j < n; j++ {
				c[i*n+j] += aik * b[k*n+j]
			}
		}
	}
	return c
}

// transpose returns aᵀ.
func transpose(a []float64, n int) []float64 {
	t := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			t[j*n+i] = a[i*n+j]
		}
	}
	return t
}

// jacobiEigen diagonalizes the symmetric matrix a by cyclic Jacobi rotations. It returns the
// eigenvalues and the eigenvectors as the columns of v.
func jacobiEigen(a []float64, n int) (vals []float64, v []float64) {
	m := append([]float64(nil), a...)
	v = make([]float64, n*n)
	for i := 0; i < n; i++ {
		v[i*n+i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		off := 0.0
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				off += m[i*n+j] * m[i*n+j]
			}
		}
		if off < 1e-30 {
			break
		}
		for p := 0; p < n; p++ {
			for q := p + 1; q < n; q++ {
				apq := m[p*n+q]
				if math.Abs(apq) < 1e-300 {
					continue
				}
				theta := (m[q*n+q] - m[p*n+p]) / (2 * apq)
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := 0; k < n; k++ {
					mkp, mkq := m[k*n+p], m[k*n+q]
					m[k*n+p] = c*mkp - s*mkq
					m[k*n+q] = s*mkp + c*mkq
				}
				for k := 0; k < n; k++ {
					mpk, mqk := m[p*n+k], m[q*n+k]
					m[p*n+k] = c*mpk - s*mqk
					m[q*n+k] = s*mpk + c*mqk
				}
				for k := 0; k < n; k++ {
					vkp, vkq := v[k*n+p], v[k*n+q]
					v[k*n+p] = c*vkp - s*vkq
					v[k*n+q] = s*vkp + c*vkq
				}
			}
		}
	}
	vals = make([]float64, n)
	for i := range vals {
		vals[i] = m[i*n+i]
	}
	return vals, v
}

// genEigen solves the generalized symmetric eigenproblem A x = λ B x with B positive
// definite. Eigenvalues come back in ascending order, eigenvectors as columns of x,
// normalized so that xᵀ B x = 1.
func genEigen(a, b []float64, n int) (vals []float64, x []float64, err error) {
	l, err := cholesky(b, n)
	if err != nil {
		return nil, nil, err
	}
	li := invLower(l, n)
	c := matMul(matMul(li, a, n), transpose(li, n), n)
	// Symmetrize against rounding.
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			s := (c[i*n+j] + c[j*n+i]) / 2
			c[i*n+j], c[j*n+i] = s, s
		}
	}
	w, v := jacobiEigen(c, n)
	xs := matMul(transpose(li, n), v, n) // x = L⁻ᵀ v, so xᵀBx = vᵀv = 1
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return w[order[i]] < w[order[j]] })
	vals = make([]float64, n)
	x = make([]float64, n*n)
	for k, o := range order {
		vals[k] = w[o]
		for r := 0; r < n; r++ {
			x[r*n+k] = xs[r*n+o]
		}
	}
	return vals, x, nil
}

// symInverse inverts a symmetric positive-definite matrix through its Cholesky factor.
func symInverse(a []float64, n int) ([]float64, error) {
	l, err := cholesky(a, n)
	if err != nil {
		return nil, err
	}
	li := invLower(l, n)
	return matMul(transpose(li, n), li, n), nil
}
