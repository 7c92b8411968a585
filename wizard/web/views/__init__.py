"""The app's views, one module per area: plans (list, new, import, export, overview),
the wizard steps, the live preview, the review page and downloads (output), and the
revision and review pages (revisions, review).
"""
