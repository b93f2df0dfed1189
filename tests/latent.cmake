# Latent toolkit: attribute vectors, AUC, edits, interpolation, the fitted
# Gaussian and sampling, keep-detail edits (synthetic latents, no model).
zs_add_test(test_latent test_latent.c LABELS latent)
zs_add_test(test_analysis test_analysis.c LABELS latent)
