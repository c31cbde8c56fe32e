"""Helpers for the data migrations that give the Staff and Board groups their permissions.

Each app's migration grants the permissions on its own models, so the roles grow with the apps.
Core's own migrations name the groups as literals ("Staff"): core imports no app of ours.
"""

from django.contrib.auth.management import create_permissions


def grant(apps, schema_editor, grants: dict[str, dict[str, list[str]]]) -> None:
    """``grants`` maps a group name to {app_label: [permission codenames]}."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_config in apps.get_app_configs():
        # Permissions are normally created after all migrations ran; make sure they exist now.
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    for group_name, per_app in grants.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for app_label, codenames in per_app.items():
            perms = Permission.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
            missing = set(codenames) - set(perms.values_list("codename", flat=True))
            if missing:
                raise RuntimeError(f"Unknown permissions for {app_label}: {sorted(missing)}")
            group.permissions.add(*perms)
