"""Build hook: compiles the libpri cffi binding; metadata lives in setup.cfg."""

from setuptools import setup

setup(cffi_modules=["appliance/signalling/pri/_build.py:ffibuilder"])
