"""Shared by every tier.  gevent's monkey patching must come first: the
integration tests run the appliance's real services, which run on gevent."""

from gevent import monkey

monkey.patch_all()
