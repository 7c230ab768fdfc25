from setuptools import Extension, setup

setup(
    packages=["fastsum"],
    package_dir={"": "src"},
    ext_modules=[Extension("fastsum._speedups", ["src/fastsum/_speedups.c"])],
)
