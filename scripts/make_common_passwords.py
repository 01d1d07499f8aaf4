"""Write the list of common passwords the registry refuses (``src/raredx/registry/data/common_passwords.txt``).

    .venv/bin/python scripts/make_common_passwords.py [--out PATH]

Nothing is downloaded. The list is put together from:

* the words that head the widely published "most common passwords" lists (the UK NCSC's top of the
  Have I Been Pwned corpus, SplashData's and NordPass's yearly lists, the RockYou leak's top entries),
  written down from those public lists, lower-cased;
* common English and Russian (transliterated) first names, and words of the registry's own context
  (raredx, registry, hospital, clinic, ...), which NIST SP 800-63B asks a blocklist to hold;
* generated patterns: keyboard walks (rows, columns, both directions, QWERTY and ЙЦУКЕН), digit runs and
  repetitions, Cyrillic words typed on a Latin layout (пароль -> gfhjkm), and "leet" spellings of the
  commonest words (p@ssw0rd).

The check (:func:`raredx.registry.security.check_password_strength`) also strips leading and trailing digits
and punctuation before looking a password up, so ``Password2024!`` and ``123monkey`` count as listed without
being spelt out here.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "raredx" / "registry" / "data" / "common_passwords.txt"

TOP = """
password 123456 12345678 123456789 1234567890 qwerty abc123 football monkey letmein shadow master 666666
qwertyuiop 123321 mustang 1234567 michael 654321 superman 1qaz2wsx 7777777 121212 000000 qazwsx 123qwe killer
trustno1 jordan jennifer zxcvbnm asdfgh hunter buster soccer harley batman andrew tigger sunshine iloveyou
charlie robert thomas hockey ranger daniel starwars klaster 112233 george computer michelle jessica pepper
zxcvbn 555555 11111111 131313 freedom 777777 pass maggie 159753 aaaaaa ginger princess joshua cheese amanda
summer love ashley nicole chelsea biteme matthew access yankees 987654321 dallas austin thunder taylor matrix
william corvette hello martin heather secret merlin diamond 1234qwer gfhjkm hammer silver 222222 88888888
anthony justin test bailey q1w2e3r4t5 patrick internet scooter orange 11111 golfer cookie richard samantha
bigdog guitar jackson whatever mickey chicken sparky snoopy maverick phoenix camaro peanut morgan welcome
falcon cowboy ferrari samsung andrea smokey steelers joseph mercedes dakota arsenal eagles melissa boomer
booboo spider nascar monster tigers yellow xxxxxx 123123123 gateway marina diablo bulldog qwer1234 compaq
purple hardcore banana junior hannah 123654 porsche lakers iceman money cowboys 987654 london tennis 999999
ncc1701 coffee scooby 0000 miller boston q1w2e3r4 brandon yamaha chester mother forever johnny edward 333333
oliver redsox player nikita knight fender barney midnight please brandy chicago badboy slayer rangers charles
angel flower bigdaddy rabbit wizard bigdick jasper enter rachel chris steven winner adidas victoria natasha
1q2w3e4r jasmine winter prince panties marine ghbdtn fishing cocacola casper james 232323 raiders 888888
marlboro gandalf asdfasdf crystal 87654321 12344321 golden 8675309 dragon blowme sexy fuckyou asshole
admin administrator root toor guest user login changeme default passw0rd p@ssword p@ssw0rd qwerty123
welcome1 letmein1 iloveyou1 monkey1 dragon1 password1 abcd1234 aa123456 1q2w3e 1q2w3e4r5t 1q2w3e4r5t6y
zaq12wsx zaq1zaq1 qazwsxedc qwe123 asd123 zxc123 qweasd qweasdzxc 1qazxsw2 123abc abcdef abcdefg abcdefgh
abcdefghij abc12345 lovely loveme beautiful babygirl baby butterfly sweety sweetheart angel1 friends
family mylove teamo hottie blessed jesus christ heaven god lucky lucky7 rainbow unicorn flowers kitten
puppy doggie pokemon pikachu minecraft roblox fortnite naruto sasuke goku dragonball onepiece zelda mario
liverpool chelsea1 manutd barcelona realmadrid juventus milan arsenal1 football1 soccer1 baseball
basketball hockey1 golf tennis1 jordan23 lebron kobe24 michael1 yankees1 redskins packers broncos
raiders1 patriots steelers1 cowboys1 eagles1 giants jets dolphins bears vikings chargers ravens saints
shadow1 master1 superman1 batman1 spiderman ironman hulk thor captain avengers starwars1 skywalker vader
yoda jedi sith matrix1 neo trinity morpheus hacker hacking linux ubuntu windows apple iphone android google
facebook twitter youtube instagram yahoo hotmail gmail outlook microsoft samsung1 nokia sony lenovo dell
summer1 winter1 spring autumn fall january february march april may june july august september october
november december monday tuesday wednesday thursday friday saturday sunday holiday vacation christmas
easter halloween birthday happy smile freedom1 liberty america canada england russia moscow london1 paris
berlin newyork chicago1 texas florida california italia france germany spain mexico brazil china japan
india australia qwertz azerty asdfghjkl zxcvbnm1 qwertyu asdfghj poiuytrewq lkjhgfdsa mnbvcxz
trustme believe letmeinnow openup opensesame secret1 secret123 mysecret private confidential security
securepassword strongpassword mypassword yourpassword newpassword oldpassword temppassword temp temp123
testing test123 test1234 testtest demo demo123 sample example nopassword nothing noname unknown anything
everything something whatever1 iloveu iloveyou2 ihateyou fuckoff shit pussy dick cock sex sexy1 porn
playboy hustler horny naughty lover kisses honey sugar candy chocolate icecream cookie1 pizza burger
banana1 apple1 orange1 cherry peach lemon strawberry blueberry coconut pepper1 tomato potato carrot
hello1 hello123 hellokitty kitty catcat doggy dogdog tiger lion panther jaguar leopard eagle hawk falcon1
wolf wolves fox bear bears1 shark dolphin whale turtle snake cobra viper python dragon123 monkey123
killer1 ninja samurai warrior soldier sniper army navy marines airforce pilot captain1 general major
sergeant private1 hunter1 hunting fisher fishing1 sailor pirate zombie vampire ghost demon devil angel123
lucifer satan hell hellfire inferno fire water earth wind storm thunder1 lightning rain snow ice frost
silver1 golden1 diamond1 crystal1 ruby emerald sapphire pearl platinum money1 cash dollar euro rich
million billion success winner1 champion legend hero superstar rockstar rocknroll music guitar1 piano
drums singer dancer dance party crazy insane madness chaos random qwerty1 qwerty12 qwerty1234 asdf asdf1234
zxcv 1111 11111 111111 1111111 1212 12121212 1313 2000 2001 2020 2021 2022 2023 2024 2025 2026 696969 69696969
147258369 789456123 741852963 963852741 159357 147258 258369 0987654321 9876543210 01234567890
"""

NAMES = """
james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark
donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob
gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander frank
patrick raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle noah ethan
jeremy walter christian keith roger terry austin sean gerald carl harold dylan arthur lawrence jordan jesse
bryan billy bruce gabriel joe logan albert willie alan eugene russell vincent philip bobby johnny bradley
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra
ashley kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura
cynthia kathleen amy angela shirley anna brenda pamela emma nicole helen samantha katherine christine debra
rachel carolyn janet catherine maria heather diane ruth julie olivia joyce virginia victoria kelly lauren
christina joan evelyn judith megan andrea cheryl hannah jacqueline martha gloria teresa ann sara madison
frances kathryn janice jean abigail alice judy sophia grace denise amber doris marilyn danielle beverly
isabella theresa diana natalie brittany charlotte marie kayla alexis lori
aleksandr alexandr alexander sergey sergei dmitry dmitriy andrey andrei alexey aleksey maxim maksim ivan
mikhail nikolay nikolai vladimir evgeny evgeniy artem artyom denis pavel roman igor oleg yuri yury vitaly
anton kirill ilya egor nikita stanislav vadim viktor victor boris konstantin ruslan timur danila gleb
elena olga tatiana tatyana natalia natalya irina svetlana anastasia nastya ekaterina katya mariya anna
yulia julia marina oksana larisa galina lyudmila nadezhda lyuba lubov valentina daria dasha polina sofia
alina kristina veronika vera victoria ksenia ksusha alena alyona masha sasha natasha tanya lena sveta
"""

CONTEXT = """
raredx registry rareregistry raredisease rare-disease orphan orphanet hospital clinic clinical doctor
physician nurse patient patients medicine medical health healthcare genetics genetic genome geneticist
laboratory pediatrics paediatrics research researcher science scientist university institute department
phenotype phenopacket diagnosis diagnose welcome2raredx
"""

RUSSIAN = """
пароль йцукен любовь привет солнце солнышко котик зайка наташа максим андрей сергей александр мама папа
москва россия спартак зенит динамо цска анастасия екатерина дмитрий владимир больница врач пациент
регистр доктор здоровье медицина ярославль петербург кошка собака
"""

QWERTY_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
RU_ROWS = ("йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")
LATIN_OF_RU = dict(zip("йцукенгшщзхъфывапролджэячсмитьбюё", "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"))
LEET = {"a": "@4", "o": "0", "e": "3", "i": "1!", "s": "$5", "t": "7", "l": "1"}


def words(block: str) -> list[str]:
    return block.split()


def keyboard_walks() -> set[str]:
    out: set[str] = set()
    for row in (*QWERTY_ROWS, *RU_ROWS):
        for n in range(6, len(row) + 1):
            for start in range(len(row) - n + 1):
                walk = row[start:start + n]
                out |= {walk, walk[::-1]}
    columns = ["1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/"]
    for n in range(2, 5):
        for start in range(len(columns) - n + 1):
            cols = columns[start:start + n]
            out.add("".join(cols))
            out.add("".join(c[::-1] for c in cols))
            out.add("".join(cols[::-1]))
    out |= {"".join(a + b for a, b in zip(QWERTY_ROWS[0][:n], QWERTY_ROWS[1][:n])) for n in range(3, 11)}
    return out


def digit_patterns() -> set[str]:
    out: set[str] = set()
    up, down = "01234567890123456789", "98765432109876543210"
    for n in range(4, 13):
        for s in (up, down):
            for start in range(10):
                out.add(s[start:start + n])
        out |= {d * n for d in "0123456789"}
    for unit in ("12", "21", "123", "321", "1234", "4321", "12345", "54321", "112233", "102030", "1122"):
        for times in range(2, 6):
            if 6 <= len(unit * times) <= 16:
                out.add(unit * times)
    for a, b in itertools.permutations("0123456789", 2):
        for times in (3, 4, 5, 6):
            out.add((a + b) * times)
    return out


def leet(word: str, limit: int = 8) -> set[str]:
    """A few leet spellings of ``word`` (each substitutable letter replaced, all or one at a time)."""
    choices = [(c, LEET.get(c, "")) for c in word]
    out = {"".join(alt[0] if alt else c for c, alt in choices)}
    for i, (c, alt) in enumerate(choices):
        for a in alt:
            out.add(word[:i] + a + word[i + 1:])
    out.discard(word)
    return set(sorted(out)[:limit])


def build() -> list[str]:
    top = words(TOP)
    listed = set(top) | set(words(NAMES)) | set(words(CONTEXT)) | set(words(RUSSIAN))
    listed |= {"".join(LATIN_OF_RU.get(c, c) for c in w) for w in words(RUSSIAN)}  # typed on a Latin layout
    listed |= keyboard_walks() | digit_patterns()
    for w in top[:120]:
        if w.isalpha():
            listed |= leet(w)
            listed.add(w + w)
    return sorted(w.lower() for w in listed if len(w) >= 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    out = parser.parse_args().out
    entries = build()
    header = ["# Common passwords raredx refuses (one a line, lower case; '#' lines are comments).",
              "# Made by scripts/make_common_passwords.py from the published top-password lists it names,",
              "# common first names, the registry's context words and generated keyboard and digit patterns;",
              "# nothing was downloaded. Edit the script, not this file."]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join([*header, *entries]) + "\n", encoding="utf-8")
    print(f"{len(entries)} entries written to {out}")


if __name__ == "__main__":
    main()
