/* Symmetric eigen-decomposition shared by the fits of src/latent (pca.c,
 * lda.c): cyclic Jacobi rotations in double, no LAPACK. */
#ifndef ZS_LATENT_EIGEN_H
#define ZS_LATENT_EIGEN_H

/* The symmetric n x n matrix a (destroyed): eigenvalues in w (n, unsorted),
 * the eigenvectors in the columns of v (n x n, row-major). */
void zs_jacobi_eigen(int n, double *a, double *w, double *v);

#endif
