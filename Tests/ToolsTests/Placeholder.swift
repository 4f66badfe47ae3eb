import StrataTool
