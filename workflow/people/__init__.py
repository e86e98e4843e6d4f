"""Who acts and where: the organisation tree, actors with roles per organisation (G15),
accounts and API tokens.

May import ``workflow.base`` and ``workflow.store``.
"""
