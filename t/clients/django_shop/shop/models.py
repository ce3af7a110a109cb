from django.db import models


class Order(models.Model):
    id = models.BigAutoField(primary_key=True)
    item = models.TextField()
