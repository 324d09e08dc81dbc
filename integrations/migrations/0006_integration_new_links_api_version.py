from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0005_connection_set_status"),
    ]

    operations = [
        # "credential_type" meant two things (the credentials an admin has, the set new
        # links use); the column says the second.
        migrations.RenameField(
            model_name="integration",
            old_name="credential_type",
            new_name="new_links_api_version",
        ),
    ]
