"""Destination registration by paths 二 (offline e-agreement, 线下签约), 三 (paper tripartite
agreement, 纸质三方) and 四 (other destinations, 其他去向)."""
