from raredx.cli import run

run()
