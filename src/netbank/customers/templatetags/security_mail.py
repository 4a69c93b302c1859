"""``{% emergency_stop_url customer %}``: the customer's emergency-stop link, for the
security mails whose context is built by other modules (so the link reaches every
security mail without each author passing it in)."""

from __future__ import annotations

from django import template

from netbank.customers.models import Customer
from netbank.customers.notices_security import emergency_stop_url as _emergency_stop_url

register = template.Library()


@register.simple_tag
def emergency_stop_url(customer: Customer | None) -> str:
    if not isinstance(customer, Customer) or customer.pk is None:
        return ""
    return _emergency_stop_url(customer)
