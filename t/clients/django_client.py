"""Django and idgen: the app's migrations create its table (bigserial),
rows go in, the next migration converts the key with
idgen.convert_column(), then Model.objects.create() and bulk_create()
return idgen keys; migrating back reverts the column.  Connects where
PGHOST, PGPORT, PGDATABASE and PGUSER say."""
import os
import sys

import django
from django.conf import settings
from django.core.management import call_command

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "django_shop"))
settings.configure(
    INSTALLED_APPS=["shop"],
    DATABASES={"default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["PGDATABASE"], "USER": os.environ["PGUSER"],
        "HOST": os.environ["PGHOST"], "PORT": os.environ["PGPORT"],
    }},
)
django.setup()
from shop.models import Order  # noqa: E402  (needs django.setup())

call_command("migrate", "shop", "0001", verbosity=0)       # CREATE TABLE, bigserial
before = [Order.objects.create(item="before").pk for _ in range(20)]

call_command("migrate", "shop", verbosity=0)               # 0002: convert_column
inserted = {}
for i in range(100):
    order = Order.objects.create(item=f"item {i}")
    inserted[order.pk] = order.item
for order in Order.objects.bulk_create(Order(item=f"bulk {i}") for i in range(100)):
    inserted[order.pk] = order.item
assert len(inserted) == 200, "duplicate keys"
assert min(inserted) > max(before), "idgen keys not above the serial's"
for pk, item in inserted.items():
    assert Order.objects.get(pk=pk).item == item, f"key {pk} not stored as returned"

call_command("migrate", "shop", "0001", verbosity=0)       # back: revert_column
after = Order.objects.create(item="after")
assert after.pk > max(inserted), "reverted sequence not above the idgen keys"

print(f"Django {django.get_version()}: {len(inserted)} distinct keys, each stored as returned; "
      "converted and reverted by migrations")
