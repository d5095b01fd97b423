"""Voice menus speak a language (zh_CN or en), which picks the appliance's own sentences
callers hear around the menu (wrong key, no key, goodbye...); and the built-in prompts of
``appliance/sounds.py`` (synthesised offline with espeak-ng, see docs/prompts.md), source
``builtin``, ``sound`` naming the file under the sounds folder without its extension.

Menus that already exist keep speaking English when their greeting is an English prompt."""

STATEMENTS = (
    """ALTER TABLE "menu" ADD COLUMN "language" VARCHAR(8) NOT NULL DEFAULT 'zh_CN'""",
    """UPDATE "menu" SET "language" = 'en'
       WHERE "prompt_id" IN (SELECT "id" FROM "prompt" WHERE "language" = 'en')""",
)

# (name, language, file under the sounds folder, description): the sentences a menu or a
# survey may use, as they were when this migration was written.
BUILTIN = (
    ("zh-welcome", "zh_CN", "zh_CN/cc-welcome", "您好，欢迎致电，请根据语音提示按键选择。"),
    ("zh-invalid", "zh_CN", "zh_CN/cc-invalid", "您的输入有误，请重新选择。"),
    ("zh-timeout", "zh_CN", "zh_CN/cc-timeout", "您没有按键，请重新选择。"),
    ("zh-directory", "zh_CN", "zh_CN/cc-directory", "请输入工号，以井号键结束。"),
    ("zh-goodbye", "zh_CN", "zh_CN/cc-goodbye", "感谢您的来电，再见。"),
    ("zh-not-available", "zh_CN", "zh_CN/cc-not-available", "该服务暂未开通，再见。"),
    ("zh-survey", "zh_CN", "zh_CN/cc-survey", "请您对本次服务评分，1到5分，5分为非常满意。"),
    ("zh-survey-thanks", "zh_CN", "zh_CN/cc-survey-thanks", "感谢您的评价，再见。"),
    ("en-welcome", "en", "en/cc-welcome", "Welcome. Please listen to the following options."),
    ("en-timeout", "en", "en/cc-timeout", "We did not hear a key. Please choose again."),
    ("en-survey", "en", "en/cc-survey", "Please rate our service from 1 to 5, where 5 is very satisfied."),
)


def up(db, migrator):
    for statement in STATEMENTS:
        db.execute_sql(statement)
    for name, language, sound, description in BUILTIN:
        db.execute_sql("""INSERT OR IGNORE INTO "prompt" ("name", "description", "language", "source", "sound",
                                                   "created_at")
                          VALUES (?, ?, ?, 'builtin', ?, CURRENT_TIMESTAMP)""", (name, description, language, sound))
