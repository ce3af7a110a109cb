from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.RunSQL(
            "SELECT idgen.convert_column('shop_order', 'id')",
            reverse_sql="SELECT idgen.revert_column('shop_order', 'id')",
        ),
    ]
