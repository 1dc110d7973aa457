"""资格 / 学籍 / 复核: the student registry, the qualification query, saving and binding a
registration to a passport account, the CET6 qualification review and account recovery (E1–E13)."""
