"""Example requests of the OpenAPI document: Swagger's "Try it out" sends them as they are, and the
API fuzz test (tests/api/test_schemathesis.py) sends them first, so every success answer is
checked against its schema too.

The face is a 112x112 JPEG (quality 75) of astronaut Eileen Collins, cut from NASA's portrait as
scikit-image ships it (`skimage.data.astronaut()`: "no known copyright restrictions, released into
the public domain"): one face of 64 px, so detect, compare, add, search and the quality and
liveness APIs all answer 200. The video is that photo held still for 1.6 s (8 frames at 5 fps,
MPEG-4 Part 2 in mp4): live-detect answers 200 with `alive: false` and warning 6 (no motion).
The example face set is "employees" with fields employee_no (integer) and dept (string).
"""

from __future__ import annotations

FACE_JPEG_BASE64 = (
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAx"
    "NDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIyMjL/wAARCABwAHADASIAAhEBAxEB/8QAHAAAAQUBAQEAAAAAAAAAAAAABQIDBAYHAQgA/8QANxAAAgEDAgQEAwcEAQUA"
    "AAAAAQIDAAQRBSEGEjFBE1FhcRQigQcyUpGhsdEVIzPBQkRTYnLw/8QAGAEAAwEBAAAAAAAAAAAAAAAAAAIDAQT/xAAhEQACAgIC"
    "AgMBAAAAAAAAAAAAAQIREiEDMRNRBCJBUv/aAAwDAQACEQMRAD8AusMeBk09jfanVjwMU4sQxUyglAOWumvmTB60zNNHBGWkcIAM"
    "kk1tgLfJB32oRPxBplqxWS7TPpvn0GOtZ7xLxy15xCdMt5wlqhAzkrzt3BNE7JfE5BFpyJIRkyc6t+9QnzYukUjCyzprF7fc3wGn"
    "kLnAkuW5FPsBvRCG81C2izdW8chA3MGcfrQzS0u4zm4JA8zGSB7b0QubiKaNjDdQyADf5gMfmf2qXmmbihy14o0+WbwZ2a2foDKM"
    "KT5ZosXjdA6OGU7gg5BrONQWNndY5EBOwTPNk1Ds9U1PSXJjZhED80Z3XFUj8j+jHx+jTifKkcuaE6Jr0GqQqJGjSYnACtkN7evp"
    "RoqaupKStCNUcApMj8pCilL1pZQZyRQBH8WlrN51D56g6zqR07S5J1x4hIRM/iP/AMaW62FC9a4gh06MqGDS9lz0qtxaouoMEuGM"
    "kjbqg6Cq5qckj/Nks79XPUmntHL2+ZS4DnYsx6nyrnfK2yiiBTw38XxJJd3MTJCZCzEeedh9en1q42lnNbIGtpIp4P8AiZMBl+oI"
    "3qPfLqVxathlXI6qOlDIrmVXeOePEkZ3bBKsPPaoylfY6VF0t55YAHkieQN1dHz+43odqMtrqEggvIroJ/2yp5Sff+KTp1zKU5iV"
    "MS4GVyAv59KITFxyB/EKk4yDt+1KAGg0lE5zBNIsZ6BmyR7d6A6lNOtzHEZvDkibmQlsjfrkdx51crzS4xZtNa3bmQdY26g+VZlr"
    "9/cSShBKFnQlQFXAHpW1sLDt3eqI45I5FL7ZUDPI3bodskVp3Cmsrr2irMxHxER8KdQejDv7HrWH6PcH4C7WaQM0i7DYAEdd6t32"
    "WaldQcTT2EnKY5oTzb91GQcVfheMqJz2jWiMHpSlOafKBqQYcbg11E0Ax1oBxqsh0NHjGSk6HH0Iqxlc0D4rlMHD078hbcbD3pJr"
    "6sZdlQ0qdbhRHPhnJ+Zz2FC9RuebXEs7c5hWXlYjucdqYh1OJQSj8rYOQD3pGgW8l3xVa+INvF8Rh7DP8VwrfZcvV9pOoW8CyQhn"
    "jAwQv6Gh3wdy/LJHC5buCMECtKshdywhYooETG7Sv1+gG1PpJDDOgnswANvEidXUe/f9KfAe0ZpA1zaqV8GQNuOmQPSmG1t7S4WO"
    "VGRHHzcvQev0rYGtbGciQRIV77UH1TTNFfBmt0JztyoST+VDg/ZmmZJqPEngxsUkIfHXvkVV7y7a+v1m5Y2MqhjkbH+K0bifgrS7"
    "iF5beG+iYDqkRK/Wst1DTLjS7c3CXKyJG3KOTOwPnmiMd7EaCviSXCo0tqsEaMFXlTGfOp2jX8elcUabJCwQpcjxGJ3w2x/SqvZ3"
    "azRGQFmbO4c/dojyR3UkfLKvxHMBHgbs2dvpRWMhXtHpbxNz5U2ZcnANJyUiVWILcoB98UyCA1dxJEXrUDXNNbVNDvLKNuWSWMhW"
    "8j1H7URFOIuTW1aoDzbdxtp14YXR1mQ4eNx90irx9nUHxmpvM+Syp94+ZO/7Vc+MeCbbXYfjIkVbyMbsBu49faofB+gy6Dcuky4J"
    "YAH8QxtXHOGLovB5bDWp8N3mpMc3UyxCJlSJZCihiNmOOuD2oXo3Dl/pMRjmunkuTNnmEhdQmOm++a0e1Xxo2XCk4zvUO5mjCtCp"
    "jEn/AI9hWtaKJbGYpjb6Y+cEqOo71U/B1DU/HmScpgN4YU/8h0B+tWOV82rKpxjpQzQZ055YMgtzZIPn6Utm4sqEFzxTZWE013dy"
    "GRZeVbeVBysnuM4PTpQHiyykn0eefw+XxVLYA7jetkubeOSEhk2HptWdcYzIumTJjZEYAfShsRoyjQYVlmkhZdnUkepFWvgKytdV"
    "4tto/h2ItQZ2PYFeg/PFVfRjL8bDHbxPLOzkIiDJbI7Vu3A3B68NaW7zqp1G6PPOw35PJB6D96oo5Tsi9IOyM5PWvlJ71JaLfpST"
    "F6VcUaCCn4lBbFfIme1KaaC0+eeVIx5scVRIRskchO2KGalC8McbLyY8QYJHzDrtnyr6bi3RYMg3LMR+CMmht1xdo1/GtvFNJ4pk"
    "UrzRkDPvS8kLix4Npk2bULyK3AhiLM55RvgD1J8qVb2csUPOJBJO/wAzPjYn28qIWRjkiIOD3HpQqLSrWy1KWVVufCnbmYRyN8h2"
    "6DOMVwpWdiZ26m1WztinwaSu2/MinA/P+aqsC3sd2skgMTqxPMKvt5bQxxcraneRnk+4y5+bO3byqj32mf1DVUjj1K8W3RssFbDS"
    "b9M9h+p9KaUaNWyyjVC1ixcrkL82On0qjXtm+t3DwCKSVWBJCIWOPpV11iG3s9LEaKodgBy+Q8qZ4Jt8Pe3hHynEKHzxuf8AVEI5"
    "SonOVKyPwZwHZ8No940Ob6UY5n3KL5Dy+lWsrjtUiRs9KQBkV1qNKjlu3YxS8AjpSzHXAMGsNKvxJxHDo0EimRYzGuZZG6J6e/pW"
    "Ia/9o15ezuLAFEz/AJpfmY+w6CufaJrE99qqacjllT55AOrOd9/YfuaruiaBc61emKEAQxKXnnY4SNB1JP6DzJFXbrRNsi3Gr6jd"
    "MTPezvnzcgflT2hzSf16wJkYj4iPPzH8Qp7WBZ2t54dpbiNVHckn9aj6beeFqdtK5wkciu2B2BFTbtAuz1LbzmxmWNz8jf42PceX"
    "uKLhFk5WDYJOMiolrDb6npCFSsqOoZWByGHYg0MfVL3QiFlga4gGwdBlh7iuBHYmE7u1YNjmHnvmg7pHYv4sjAsdz2qNccf6duH8"
    "YSfhMZFVu91m51SXnjQxx9uYVrHctBfUtQk1C6jhU/3JWCqPw5OKu9nZx6faR2sI/txjGT1J7k+pNZdaajb6Pf2t5euvKJlyZG5Q"
    "x7DPatV0/ULTVYPEtpMkfeQ7MvuP910cEdORz8jt0OkbV8m9Lde1IHy1YkdY02TvThO1MEEmlNPO97wzNqvE06xtyveSKvPjPhx8"
    "vzH8hj61ZuNLSz4Q4RttMsUCxu4aVxszyD7oY9+pP0o1oLpaa2svyyYwVYHIZcbEemCDTfF2iXetalJfQWUdzAE8bwSTnmAwSo6E"
    "4+vlTSTyYrMGnEk87Sb4Pc964qiNTnqR1ohq0TW104jU+ExynoPL6VAxmFmb6UGFl4f441/h+3WLTdRkiizkxMA6Z9j0+lWWP7Ye"
    "If8AqIdOuB35oCufyNZjExAxT3MaRwQykzTH+1O1usDUOHosg5ElvNuPow/3TV39o+kCMG2s7otj7jAD9c1mjls/Skdd6zxRDNhv"
    "iDiq515ViaJIYFbmCKckn1NFeDuO73QbmKKaaQ26bJIN2iH+19PyqlnrTqxeJGShJddyvmPMVWKUVSEybdnrrh3iO24gthysi3AU"
    "MVU5Dr+JT3H7UYKHODXmDgHiafTb6K0M5jAfmgkz/jfy/wDU9xXpTQ9Yi1vTxOAEnQ8k0f4W/g9qGv0dOyaI9qV4IpzOK4zbViBn"
    "/9k="
)

VIDEO_MP4_BASE64 = (
    "AAAAHGZ0eXBpc29tAAACAGlzb21pc28ybXA0MQAAAAhmcmVlAAAN0m1kYXQAAAGzABAHAAABthGB1BsZFqpmi1StvLMqW0j+mn0m"
    "Gvs7Ma9f23khi7cGBWqBSAfSxT4eN8Dcq5A51SNsJdPAtQZgGAOwfAgAwIqdMOR7+f3nMZqpqDbWsN8X25bsID49pYW1sQ2/tS8i"
    "ocMsDEsU4SXq5OQ0mUzto0ffnm0NA4Oh4oBhyIcu8K1QkeA23hJre89ClR8UHmx8ISf/B8lZalRQejhSU99wYXBOGAQ9Hn1k07Q4"
    "xPktDUDHdBdQmVNsbkZHyVjtWKt/1DAZEm7Ad+oiMoERo0NWLXt9KDJhHaaEFNmD3yOxNesyGxAR2BpXjOZ/Nufy5sWs1ayigLIk"
    "VvMyt+/ZF62oECewXUoijtJig/CEEAD+c/JWdgeK4srUklnKMtw8Zo+AgMHyNk7WlJ8NwIIKJOEJulkZbTRe7rXP+QB7IIgcfQxH"
    "HDY+MXLl5TiEd0f3s6db6C2acgx5OhcXCwoAcIwMORJaVaBaT7LPAY01O6UdqjBOvD9bFgBgKRWJOqbLGEO8RkkNhkTiFsIVEqKU"
    "2CA1nM+3e9oEyoEbDgRBC97FuTGmkTGLZmZ2DOkyoHSxXxqe75HMyIvVZTV6vaFQvFUhgymWxTAb4KYFA0Pi5vPp4m97JQIcK/xZ"
    "cPgLrDfPc5T4ay8fsJ9sStJy5ODIYq79hsozc/32o/KLYg6QBkHVCEqV52f1RatvV+dFyPhI8UNpmrPfTN9aZxbOyN+ocQtmwZDQ"
    "r2cInr7SVqmFYeeb80oBkDLVxFUYGP4oB38goC+JDQ/EjwfjxsdFoMBGfaHMw0IHf6VolPxlHjwSUjXVHLGdUlXyz9/IveRqwt4h"
    "mRSKjzE8HtwQJsX5ZZVkaxbIUBaummyB/+lgfsNa3EajyjL0GN3nmJIjU9u0mFojMKqqbbD4csJ/DhuKL7SpfLn87fblXaURRYuo"
    "p9MfBDbBFiovHno1USv3Sy+Rdve8sGAFPzN5XicFEOknvFtaUpvyfqnbt0N11rkRLx31YJo2EBIPLdZ821s8uo22+D9rkUrbnflm"
    "bylXBlTgMMGH4B1BQBB1VOgpk8BFHW8Rqto2DVqh5oypDAHVUBVjrWPXIx9ele7s/OZbiKTOI4txTFz4RgeA/cxGHysFIkEdrsbS"
    "F+Fi1oeJaWfxSgksi1OHp4p93i8XEyeWfY16cquBqlp6QYLRot8AAJwzWGgSAwQL4HAd/n1o2Ok+dNc1rReFikeuDD70VggpMUqF"
    "m10C2LwZw+Q1QM4UuOqJ6YXQgsaqt+q77JhU1AK02MzaEjFwkJuAc+PUqyfUl/kqCSiKSTIJxQyITNG+Kc7OW4BQ1QxQHoBSq2i4"
    "G8PRwjBEir2ogLtlk4U27SiQmEacPbDSOggiMrZ3zNzze6td4hG+DJHhtxEFWXZ1r6vyhBZe5avECEiDiPQVTTaltlL//VvJGIVF"
    "O//inhrIJ1t8rba0DQ7tUrh8nYZSN0NLS1q0Hfc45FTnm1GYXJbKILShajfn6G4ahxuVGs9GAgeL2K2xuf+0HRaHdQlloKnJZ0nO"
    "RKJLHWhB/NW4dFQQhDBQ+7FSX/EJa3nsi6AtsRU7xuGnxeELYvEgG8IO4W+l91EgLPzlgDwJV4XR8kwdDzVXW8iZu+zlK84a72bO"
    "LokS5AEsGVAwQQOqm/MJVYQleagbL2I31aFVl50keVEoQ0wQ2QRPpNY+y0W0QVHLfIr6+JF1MILuo+IkYrRyZgs8mv4wP/pW2/Vv"
    "5ayp4oG14bW4ghpxwA8dNhDBsA60zC2fEb4GvTFuqg9a4G8/OmxFIUx+Xa1+eKvZxYsgd9NgsT55S2k831rQRCz+q+0q8xjVu1de"
    "beGxp9U+GQuetg7QFJgx5Eb/2yFSnbChTeBUnYcHSkejwIQj4EIDolDv+FrSZPmt4bavc+LttJT1DLXmIjsbEJd+CSkEHPtfVNzr"
    "TLGzn/aisRyEocVAfDiDwH8WrBTCU0q8tmtjaGmPFQO34ujwboMJAMEFKCE2DKG/3RKZo2tWYq/VBqfqM0RlAYSQULQKFV76qrDj"
    "buAQ+pk2FGySmDmvls6FU/AsbFIhA3x4I0gOLk2q6lVNsp/qsTt1V7YIKb03ogDnOwc53YTC4DoNokBBbn1Q+80PoPFCiqvKldL1"
    "IdgY54sULTk9URKfDYl0QPy91HwFwVSMN9xmxutBv3lqAjoJcpEWG5tiKxL9xabURopFAjEERhCA0q+mjfdYA3dgMg2grW/LWd97"
    "vBvt1bJkASSaziebqEjOgoVX+MJ+FRZyWGkcC1afbllMDCQPx+qVDweNRr6QtbHaZnRBaSyRE0zPKfdUy5/2VaUCqhwagYfD/zAQ"
    "0yYcloffjXegUb77iMlixAHtMnb83LnwwMhFBhGY/RLVahbbYtpR+Wi51kRitj7YTgUbNaaaVygW/JSTNsXGQTjQGBQj0fhABmh/"
    "8DclEu+Er0EXYrBkewN8Ym9WW6fsA+NAplf07PmE3ms1llmqPNTNR7RQDDBgDwYSdBmxJ9ia7APCRBAHWLwQQIj9uARZ5J6AUYmR"
    "HTL3VDUgpJi77KegsdPGIF8gLlTUplVunFdM1GE5eVJmPt0FRlex9Ww3KRWQEZvzf25S3oGt7FMEC8uFahHNCogwDDwFCrRF0yAx"
    "KrawMXi9IDDoEMdbqdtUwIAfNxssT5/VFiOYh5Y4cY/z8XR2HyW5Lj2xE0JQ8bZtZZ5noppUp/ST2IdqKIDd46lZe022WVqtJGg8"
    "813mzENuohBvF1uSrc44dD8t9/qJBRWLmwhj8ejphq0eCCPmhx6q0yoGK2sU8jLKhTW87yb0rkxSTiLxywHObhI0AcP1ZaDdbTex"
    "Ysbby7RniidJSxwlV0SvpN80DFeb7IovKtIsDqRjAuTq//UwDwjMgZAv7/IOJhWIo3LUK0QHlB4IYMWCN/7YQBG0v/7nt/4tYSdw"
    "bz1tD9X3vLoGPLUGOvmn6DkMe2GMGA1IX5Mm8uh51HA1huAsXYeF+AGMeT1lpjfWTK235qKUa1+t3kt4dgDjKcfiTW/7ta9u1SHO"
    "oaLpkiKZDgaAYD6sqEgdCKHo/bhpSBhgXT75/VGUyV7O08zA6QYQwYEMdgze+HmK+CMqqksa7nlbaKb+0rVzEF+j23cyQLAynwye"
    "MSMKVNPpw9XN9rsAvWn5XwAAxjJhhBvA3mQD22KONZEHVCZViNPQ5JGEYeorJd6WLvBQAogeAgeR0PGMok8//kByRMHirxJrc59k"
    "l4WYKQT4PAQOoHEw6Ej4Q/+ma31hVt5xouYKrPGi38XNzPY4RAggoy4AwujbNoG0+xUOh9i6cvT/DrM8HEDtnaswxm7+w80nTrNh"
    "YVAeEJJOKh0k8DxEAXloI+y6FawILHgcAcEPnvdBhwP+FWIwNC02Byj1KkHI9T1nd1BM9knItJ7hCgI4+HIlF7Hl/spmWPdDn7Wy"
    "BWXJzYKeoqcbAxatgG77W/QPcBhvkRyhzwCHxde5SAaKb5TnOyLrg4iNpWU4jCH+Wax9pu+/lnL78vN9/KMLKs8TYEIdAhlbSvw+"
    "SoWG6oa0Fd8RIG1RE4g8crmypclyxESLKATxXm/HeCB6VRFohXoORkxJMDApAhrXANDgCOJ/UZ9cIB4AcXBC8o/+NtoVADwksFDT"
    "FyJsWCMJXhKTNs6BZN7W/0CJZl/YFQcB+P2xLTsj9XQMs3vIiyIs9gbewqdJeJCUDo+Ho8HXvqdLm1lTRbfeWLfzyPZIN+B7yrHb"
    "EkSB6EBscF/ud6OGcXYZBXabiH15/ELhhLq8wkPi7E5D9a7M3j4Izi6u5Nx0n1rZsfAzLAQAUiTf4p8ISZtscdkA2Pw/sVeDSayO"
    "aDArj4MkGCEXj0GEsGZH4HxL/dbaY3yRrV2FQ+b6BttVlG3LmMdR83gMQh3BR58vA9rQesdLZ/LOaw2pkZY+hn/f99qkvSBMGHQB"
    "o8AMHTQkJxLbHies0fAq8UKA+b+ILXk/+T7TUbo37fUGEXhgvOKHbrBVKhwqazxpBEHTutLbBSdCA3E6bxbYIOSRslsEUHfG4nJA"
    "yHI72wL+ClBgOA3gUrNbCCEJpWzxREua2mTqEErarfX/BELVPBQGD4PAQU4MqB4SAPVgHlxpQPfM8B4n/1VaFIXG3KnhyN6Tit85"
    "mvAeAgjR+k6DB8DK1fLOCAOy6cpIWpG4D5cASmXA8BA8ggqQcXj0dTAY36s/vCTxZgvMxkgVxA/+T44MNAVAUgMkLgUF1nGW0qX/"
    "iyt7JmTO9o49O87ydt204MQYRwYEASgUKplthU1Ev121VKmB/TfQYCg/Agnznas2jUuhTWyz8mh1vJmmvhxoaiJTZUj4fN23b2nU"
    "5JDyYPgG0GxKCkV1TP6XVutT/859U3AeEgEUuAUZiCjZtHi/XDSGQRYMCjBmFQjlzI/iqN2tKB2q4DgU6aCKDw//mmG7X4V3M4N8"
    "MA/wQwOMggD2qu36ZuDkfKwYOVRKDErQ2bhvmxbXbnbui02ILxgeccz45wAAAbZTwg//7wAAnIf//98AAMaH3Vzf9wAAAbZVgo//"
    "7wAAnKf//98AAMan/+8AAAG2V8MP/+8AAJzH///fAADGx//vAAABtlmDz//vAACc9///3wAAxvf/7wAAAbZo4kf/9wAAnSf//98A"
    "AMcn/+8AAAG2U4UP/+8AAJ1H///fAADHR//vAAABtlXFz//vAACdd///3wAAx3f/7wAAA2Vtb292AAAAbG12aGQAAAAAAAAAAAAA"
    "AAAAAAPoAAAGQAABAAABAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAACAAACj3RyYWsAAABcdGtoZAAAAAMAAAAAAAAAAAAAAAEAAAAAAAAGQAAAAAAAAAAAAAAAAAAAAAAAAQAA"
    "AAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAEAAAAAAcAAAAHAAAAAAACRlZHRzAAAAHGVsc3QAAAAAAAAAAQAABkAAAAAAAAEA"
    "AAAAAgdtZGlhAAAAIG1kaGQAAAAAAAAAAAAAAAAAACgAAABAAFXEAAAAAAAtaGRscgAAAAAAAAAAdmlkZQAAAAAAAAAAAAAAAFZp"
    "ZGVvSGFuZGxlcgAAAAGybWluZgAAABR2bWhkAAAAAQAAAAAAAAAAAAAAJGRpbmYAAAAcZHJlZgAAAAAAAAABAAAADHVybCAAAAAB"
    "AAABcnN0YmwAAADac3RzZAAAAAAAAAABAAAAym1wNHYAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAcABwAEgAAABIAAAAAAAAAAEA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAY//8AAABgZXNkcwAAAAADgICATwABAASAgIBBIBEAAAAAAETyAAAAAAWA"
    "gIAvAAABsAEAAAG1iRMAAAEAAAABIADEjYgALQOEDhRDAAABskxhdmM2Mi4yOC4xMDIGgICAAQIAAAAUYnRydAAAAAAAAETyAAAA"
    "AAAAABhzdHRzAAAAAAAAAAEAAAAIAAAIAAAAABRzdHNzAAAAAAAAAAEAAAABAAAAHHN0c2MAAAAAAAAAAQAAAAEAAAAIAAAAAQAA"
    "ADRzdHN6AAAAAAAAAAAAAAAIAAANLgAAABgAAAAWAAAAFgAAABYAAAAWAAAAFgAAABYAAAAUc3RjbwAAAAAAAAABAAAALAAAAGJ1"
    "ZHRhAAAAWm1ldGEAAAAAAAAAIWhkbHIAAAAAAAAAAG1kaXJhcHBsAAAAAAAAAAAAAAAALWlsc3QAAAAlqXRvbwAAAB1kYXRhAAAA"
    "AQAAAABMYXZmNjIuMTIuMTAy"
)


def _example(summary: str, value: dict) -> dict:
    return {"summary": summary, "value": value}


# components/examples: one complete body per kind of request (the image ones share the face).
REQUEST_EXAMPLES = {
    "detect": _example("A face, with age, gender, head pose, quality and face angle",
                       {"image_base64": FACE_JPEG_BASE64, "attributes": "0,1,2,12,21"}),
    "compare": _example("The same photo twice", {"image1_base64": FACE_JPEG_BASE64,
                                                  "image2_base64": FACE_JPEG_BASE64}),
    "image": _example("A face", {"image_base64": FACE_JPEG_BASE64}),
    "add_faces": _example("Add the face to the example set", {
        "image_base64": FACE_JPEG_BASE64, "external_image_id": "collins", "single": True,
        "external_fields": {"employee_no": 1001, "dept": "it"}}),
    "search": _example("Search the example set", {
        "image_base64": FACE_JPEG_BASE64, "top_n": 5, "threshold": 0.9, "filter": "dept:it",
        "sort": [{"employee_no": "asc"}], "return_fields": ["employee_no"]}),
    "live_detect": _example("A still face asked to turn left (alive: false, warning 6)",
                            {"video_base64": VIDEO_MP4_BASE64, "actions": "1"}),
    "create_face_set": _example("The example set", {
        "face_set_name": "employees",
        "external_fields": {"employee_no": {"type": "integer"}, "dept": {"type": "string"}}}),
    "update_face": _example("Move a face to another department",
                            {"face_id": "iexEBb6t", "external_fields": {"dept": "hr"}}),
    "batch_delete": _example("Every face of a department", {"filter": "dept:hr"}),
    "token": _example("A user of the default project", {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"name": "alice",
                                                                    "password": "alice-password"}}},
        "scope": {"project": {"name": "default"}}}}),
    "set_qps": _example("20 calls per second per API", {"qps": 20}),
    "subscribe": _example("Apply for the sub-service", {"enabled": True}),
    "disable_credential": _example("Stop a key signing", {"disabled": True}),
    "rotate": _example("A new key; the old one signs an hour more", {"grace_seconds": 3600}),
    "create_user": _example("A second user", {"name": "operator", "password": "operator-password"}),
    "update_user": _example("A new password", {"password": "new-operator-password"}),
}
