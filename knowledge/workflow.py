"""The article state machine: draft → review → published → retired.

Rules (enforced in knowledge.services, documented here because they are the contract):
- `draft → review`: the author or any agent / knowledge manager submits it.
- `review → published` and `review → draft` (send back): knowledge managers and admins only.
- `draft → published` directly: knowledge managers and admins; and `article_publish_now`, which also lets
  an agent publish an article that came from a known error (problems' "publish known error" action).
- `published → retired`, `retired → draft` (rework an old article): knowledge managers and admins.
- There is no `published → draft`: a published article is edited in place by a knowledge manager, and
  every such edit is snapshotted as a new ArticleVersion, so readers never lose the article meanwhile.
"""

from core.workflow import Workflow

from .choices import ArticleState as S

ARTICLE_WORKFLOW = Workflow(
    initial=S.DRAFT,
    moves={
        S.DRAFT: (S.REVIEW, S.PUBLISHED, S.RETIRED),
        S.REVIEW: (S.DRAFT, S.PUBLISHED, S.RETIRED),
        S.PUBLISHED: (S.RETIRED,),
        S.RETIRED: (S.DRAFT,),
    },
    labels={value: label for value, label in S.choices},
)
