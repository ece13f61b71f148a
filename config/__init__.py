"""The project's configuration, above the apps: settings (settings, settings_test), the root
URLconf that wires the apps' URLs together, and the WSGI/ASGI entry points. It imports the apps;
no app imports it (an import contract holds that): apps read settings through django.conf."""
