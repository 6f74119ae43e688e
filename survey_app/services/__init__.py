"""Named operations the routes and the CLI call, grouped by what people do.

``collect/`` takes citizens' answers, ``qr/`` puts surveys into the physical world,
``reports/`` turns answers into numbers officials read and publish, ``petitions/`` handles
citizens' feedback and its answers, ``officials/`` is who may see and change what, and
``data/`` brings data in (paper forms, the demo). ``docs/ARCHITECTURE.md`` says which
layer may import which.
"""
