#!/usr/bin/env python3
"""Counts the kernel tests (classes named *KernelTest) in Maven's surefire reports and fails when
none ran, or, under CI, when any was skipped: a CI that goes green with its kernel tests filtered
out or skipped proves nothing about capture.

    scripts/kernel-tests-ran.py LABEL MODULE_DIR...
"""
import glob
import os
import sys
import xml.etree.ElementTree as ElementTree


def ci_on():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


def main(label, modules):
    ran = skipped = 0
    skipped_names = []
    for module in modules:
        for report in glob.glob(os.path.join(module, "target/surefire-reports/TEST-*KernelTest.xml")):
            for case in ElementTree.parse(report).getroot().iter("testcase"):
                if case.find("skipped") is not None:
                    skipped += 1
                    skipped_names.append(case.get("classname", "?") + "." + case.get("name", "?"))
                else:
                    ran += 1
    print(f"kernel tests ({label}): {ran} ran, {skipped} skipped")
    if ran == 0:
        sys.exit(f"spanwire: no kernel test ran ({label}): the suite did not exercise the kernel")
    if skipped and ci_on():
        sys.exit(f"spanwire: kernel tests skipped under CI ({label}): " + ", ".join(skipped_names[:10]))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
