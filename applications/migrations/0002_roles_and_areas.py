from django.db import migrations

from accounts.roles import grant

GRANTS = {
    "Staff": {
        "applications": [
            "view_application",
            "change_application",
            "review_application",
            "view_applicationdocument",
            "view_applicationevent",
            "view_areaofwork",
            "add_areaofwork",
            "change_areaofwork",
            "delete_areaofwork",
        ],
    },
    "Board": {
        "applications": ["view_application", "view_applicationdocument", "view_applicationevent"],
    },
}

AREAS = [
    ("Youth and schools", "Jeunesse et milieu scolaire"),
    ("Violence against women and girls", "Violence faite aux femmes et aux filles"),
    ("Urban safety and public spaces", "Sécurité urbaine et espaces publics"),
    ("Policing and community relations", "Police et relations avec la communauté"),
    ("Drugs and addiction", "Drogues et dépendances"),
    ("Organised crime and trafficking", "Crime organisé et traite"),
    ("Prevention of radicalisation", "Prévention de la radicalisation"),
    ("Reintegration of offenders", "Réinsertion des personnes contrevenantes"),
    ("Victim support", "Aide aux victimes"),
    ("Indigenous communities", "Communautés autochtones"),
    ("Migration and social cohesion", "Migration et cohésion sociale"),
    ("Evaluation and research", "Évaluation et recherche"),
]


def forwards(apps, schema_editor):
    grant(apps, schema_editor, GRANTS)
    AreaOfWork = apps.get_model("applications", "AreaOfWork")
    for position, (name_en, name_fr) in enumerate(AREAS):
        AreaOfWork.objects.get_or_create(
            name_en=name_en, defaults={"name_fr": name_fr, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0001_initial"),
        ("members", "0002_roles"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
