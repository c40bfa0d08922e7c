"""Demo knowledge articles, published by the demo knowledge manager (idempotent: found by title)."""

from .models import Article, Category
from .services import article_create, article_publish_now

ARTICLES = [
    (
        "network",
        "Network",
        "VPN disconnects every few minutes",
        "If the VPN client drops every few minutes:\n\n1. Quit the client completely.\n"
        "2. Forget the saved Wi-Fi network and join it again.\n3. Reconnect the VPN.\n\n"
        "If it still drops, **report a problem** and attach the client log (`Help → Export log`).",
    ),
    (
        "accounts",
        "Accounts and access",
        "Reset your password",
        "Go to the sign-in page and choose *Forgot password?*. You receive a link by email that is valid for "
        "three days. Passwords need at least 8 characters and may not be a common word.",
    ),
    (
        "hardware",
        "Hardware",
        "Printer jams on floor 2",
        "Open tray 2, remove the jammed sheet by pulling it **towards you**, close the tray and wait for "
        "the printer to restart. Do not use staples in the feeder.",
    ),
]


def load(*, users, groups) -> None:
    kate = users["kate"]
    for category_name, category_label, title, body in ARTICLES:
        category, _ = Category.objects.get_or_create(name=category_name, defaults={"label": category_label})
        if Article.objects.filter(title=title).exists():
            continue
        article = article_create(actor=kate, title=title, body=body, category=category)
        article_publish_now(article, actor=kate)
