"""The web app: thin views, the wizard's forms and steps, draft saves, presets, plan
import and export, and the request-level security middleware.

The top layer: it may import every other layer, and none of them imports it.
"""
