import sys
from pathlib import Path

# Tests import the project's packages (actions, components) from the repository root.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
