"""Fixed vocabularies the generator draws from: departments, the whistle list, names.

Kept apart from the generator so the lists can be read (and corrected) by someone who knows
the domain without reading any generation logic. Only constants here; nothing is loaded.
"""

from __future__ import annotations

from backend.domain.vocabulary import Tier

# --------------------------------------------------------------------------- departments
# (code, name, name as a county-level unit or "" for the same, English). 职能部门. The first 30
# are the ones a single county (the "small" city) has; they include every whistle-list owner.
DEPARTMENTS: tuple[tuple[str, str, str, str], ...] = (
    ("D-ZJ", "住房和城乡建设局", "", "Housing and Urban-Rural Development Bureau"),
    ("D-CG", "城市管理局", "", "Urban Management Bureau"),
    ("D-HB", "生态环境局", "生态环境分局", "Ecology and Environment Bureau"),
    ("D-SJ", "市场监督管理局", "", "Market Regulation Administration"),
    ("D-RS", "人力资源和社会保障局", "", "Human Resources and Social Security Bureau"),
    ("D-GA", "公安局", "公安分局", "Public Security Bureau"),
    ("D-JT", "交通运输局", "", "Transport Bureau"),
    ("D-SL", "水利局", "", "Water Resources Bureau"),
    ("D-ZR", "自然资源局", "自然资源分局", "Natural Resources Bureau"),
    ("D-YJ", "应急管理局", "", "Emergency Management Bureau"),
    ("D-MZ", "民政局", "", "Civil Affairs Bureau"),
    ("D-WJ", "卫生健康委员会", "", "Health Commission"),
    ("D-JY", "教育体育局", "", "Education and Sports Bureau"),
    ("D-NY", "农业农村局", "", "Agriculture and Rural Affairs Bureau"),
    ("D-XF", "信访局", "", "Letters and Calls Bureau"),
    ("D-SF", "司法局", "", "Justice Bureau"),
    ("D-JJ", "公安局交通警察支队", "公安交通管理大队", "Traffic Police"),
    ("D-LY", "林业局", "", "Forestry Bureau"),
    ("D-ZW", "政务服务数据管理局", "", "Government Services and Data Administration"),
    ("D-XFJY", "消防救援支队", "消防救援大队", "Fire and Rescue"),
    ("D-FG", "发展和改革委员会", "", "Development and Reform Commission"),
    ("D-CZ", "财政局", "", "Finance Bureau"),
    ("D-GX", "工业和信息化局", "", "Industry and Information Technology Bureau"),
    ("D-SW", "商务局", "", "Commerce Bureau"),
    ("D-WL", "文化广电新闻出版旅游局", "", "Culture, Media and Tourism Bureau"),
    ("D-YB", "医疗保障局", "", "Healthcare Security Administration"),
    ("D-TY", "退役军人事务局", "", "Veterans Affairs Bureau"),
    ("D-XC", "乡村振兴局", "", "Rural Revitalisation Bureau"),
    ("D-FL", "妇女联合会", "", "Women's Federation"),
    ("D-ZGH", "总工会", "", "Federation of Trade Unions"),
    ("D-TJ", "统计局", "", "Statistics Bureau"),
    ("D-SHJ", "审计局", "", "Audit Bureau"),
    ("D-RF", "人民防空办公室", "", "Civil Air Defence Office"),
    ("D-QX", "气象局", "", "Meteorological Bureau"),
    ("D-SWJ", "税务局", "", "Taxation Bureau"),
    ("D-YC", "烟草专卖局", "", "Tobacco Monopoly Bureau"),
    ("D-YZ", "邮政管理局", "", "Postal Administration"),
    ("D-CL", "残疾人联合会", "", "Disabled Persons' Federation"),
    ("D-TW", "共青团委员会", "", "Communist Youth League Committee"),
    ("D-MZZJ", "民族宗教事务局", "", "Ethnic and Religious Affairs Bureau"),
    ("D-GZ", "国有资产监督管理委员会", "", "State-owned Assets Supervision Commission"),
    ("D-GJJ", "住房公积金管理中心", "", "Housing Provident Fund Centre"),
    ("D-BDC", "不动产登记中心", "", "Real Estate Registration Centre"),
    ("D-ZS", "房屋征收管理办公室", "", "Housing Expropriation Office"),
    ("D-KJ", "科学技术局", "", "Science and Technology Bureau"),
    ("D-DZ", "防震减灾中心", "", "Earthquake Preparedness Centre"),
    ("D-LS", "粮食和物资储备局", "", "Grain and Material Reserves Bureau"),
    ("D-JG", "机关事务管理局", "", "Government Offices Administration"),
    ("D-WX", "互联网信息办公室", "", "Cyberspace Affairs Office"),
    ("D-FY", "人民法院", "", "People's Court"),
    ("D-JC", "人民检察院", "", "People's Procuratorate"),
    ("D-HW", "环境卫生管理处", "", "Sanitation Management Office"),
    ("D-YL", "园林绿化管理处", "", "Parks and Greening Office"),
    ("D-SZ", "市政公用事业管理处", "", "Municipal Utilities Office"),
    ("D-WS", "水务集团", "", "Water Supply Group"),
    ("D-RQ", "燃气公司", "", "Gas Company"),
    ("D-GD", "供电公司", "", "Power Supply Company"),
    ("D-GJ", "公交公司", "", "Bus Company"),
    ("D-TX", "通信发展管理办公室", "", "Telecommunications Office"),
    ("D-DA", "档案馆", "", "Archives"),
)

# --------------------------------------------------------------------------- whistle list
# 吹哨清单 (Daguan: 36 items, 3 classes). Columns: code, name, name_en, whistle class,
# owner department, default tier, complexity, major, keywords for a text classifier.
CATEGORIES: tuple[tuple[str, str, str, str, str, Tier, str, bool, tuple[str, ...]], ...] = (
    # 综合执法 — enforcement
    ("illegal_building", "违章搭建", "Illegal construction", "enforcement", "D-CG",
     Tier.TOWNSHIP, "complex", False, ("违建", "违章搭建", "私搭乱建", "加盖", "搭棚")),
    ("road_occupation", "占道经营", "Street vending on the road", "enforcement", "D-CG",
     Tier.GRID, "simple", False, ("占道", "摆摊", "流动摊贩", "店外经营", "马路市场")),
    ("illegal_parking", "违规停车", "Illegal parking", "enforcement", "D-JJ",
     Tier.GRID, "simple", False, ("乱停", "乱放", "停车", "占用车位", "堵门")),
    ("cooking_fumes", "油烟扰民", "Cooking fumes nuisance", "enforcement", "D-CG",
     Tier.GRID, "general", False, ("油烟", "餐馆", "早餐店", "排烟", "烧烤")),
    ("decoration_noise", "装修噪音", "Renovation noise", "enforcement", "D-CG",
     Tier.GRID, "simple", False, ("装修", "电钻", "敲打", "施工噪音", "一大早")),
    ("noise_nuisance", "噪音扰民", "Noise nuisance", "enforcement", "D-GA",
     Tier.GRID, "simple", False, ("噪音", "广场舞", "喇叭", "吵闹", "音响")),
    ("illegal_land_use", "违法用地", "Illegal land use", "enforcement", "D-ZR",
     Tier.TOWNSHIP, "complex", False, ("占用耕地", "违法用地", "乱占", "非法占地", "违规建房")),
    ("river_pollution", "河道污染", "River pollution", "enforcement", "D-HB",
     Tier.TOWNSHIP, "general", False, ("河道", "排污", "水体", "发臭", "死鱼")),
    ("illegal_advertising", "乱贴小广告", "Illegal posters and signs", "enforcement", "D-CG",
     Tier.GRID, "simple", False, ("小广告", "牛皮癣", "张贴", "横幅", "广告牌")),
    ("illegal_dumping", "乱倒建筑垃圾", "Dumping of construction waste", "enforcement", "D-CG",
     Tier.GRID, "general", False, ("建筑垃圾", "渣土", "偷倒", "乱倒", "倾倒")),
    ("unlicensed_business", "无证经营", "Unlicensed business", "enforcement", "D-SJ",
     Tier.GRID, "general", False, ("无证", "无照", "黑作坊", "非法经营", "营业执照")),
    ("food_safety", "食品安全", "Food safety", "enforcement", "D-SJ",
     Tier.GRID, "general", False, ("食品", "过期", "变质", "食物中毒", "卫生许可")),
    # 管理服务 — management and services
    ("neighbour_dispute", "邻里纠纷", "Neighbour dispute", "management", "D-SF",
     Tier.GRID, "general", False, ("邻居", "纠纷", "吵架", "漏水", "评理")),
    ("property_dispute", "物业纠纷", "Property management dispute", "management", "D-ZJ",
     Tier.TOWNSHIP, "general", False, ("物业", "物业费", "业委会", "电梯", "停车费")),
    ("land_dispute", "土地纠纷", "Land dispute", "management", "D-ZR",
     Tier.TOWNSHIP, "complex", False, ("土地", "宅基地", "田界", "承包地", "征地")),
    ("family_dispute", "婚姻家庭纠纷", "Marriage and family dispute", "management", "D-FL",
     Tier.GRID, "general", False, ("婚姻", "家庭", "赡养", "离婚", "家暴")),
    ("forest_rights_dispute", "山林权属纠纷", "Forest rights dispute", "management", "D-LY",
     Tier.TOWNSHIP, "complex", False, ("山林", "林权", "界址", "砍伐", "林地")),
    ("unpaid_wages", "拖欠工资", "Unpaid wages", "management", "D-RS",
     Tier.TOWNSHIP, "general", False, ("欠薪", "拖欠工资", "农民工", "讨薪", "工钱")),
    ("policy_inquiry", "政策咨询", "Policy inquiry", "management", "D-ZW",
     Tier.GRID, "simple", False, ("咨询", "政策", "怎么办理", "补贴", "社保")),
    ("sanitation", "环境卫生", "Sanitation", "management", "D-CG",
     Tier.GRID, "simple", False, ("卫生", "脏乱差", "杂物", "清扫", "异味")),
    ("garbage_collection", "垃圾清运", "Garbage collection", "management", "D-CG",
     Tier.GRID, "simple", False, ("垃圾", "垃圾桶", "清运", "满溢", "垃圾站")),
    ("broken_facilities", "公共设施损坏", "Damaged public facilities", "management", "D-CG",
     Tier.GRID, "general", False, ("损坏", "破损", "健身器材", "护栏", "座椅")),
    ("streetlight_out", "路灯不亮", "Streetlight out", "management", "D-CG",
     Tier.GRID, "simple", False, ("路灯", "不亮", "照明", "灯坏", "黑灯")),
    ("sewage_overflow", "污水外溢", "Sewage overflow", "management", "D-ZJ",
     Tier.GRID, "general", False, ("污水", "下水道", "管道堵塞", "外溢", "化粪池")),
    ("stray_dogs", "流浪犬只", "Stray dogs", "management", "D-GA",
     Tier.GRID, "simple", False, ("流浪狗", "犬只", "咬人", "狗叫", "遛狗")),
    ("social_assistance", "困难救助", "Hardship assistance", "management", "D-MZ",
     Tier.GRID, "general", False, ("低保", "救助", "困难", "孤寡", "残疾")),
    # 应急处置 — emergency
    ("safety_hazard", "安全隐患", "Safety hazard", "emergency", "D-YJ",
     Tier.GRID, "general", False, ("隐患", "危险", "安全", "松动", "坠落")),
    ("manhole_missing", "井盖缺失", "Missing manhole cover", "emergency", "D-CG",
     Tier.GRID, "simple", False, ("井盖", "窨井", "缺失", "井盖破损", "掉落")),
    ("fire_lane_blocked", "消防通道堵塞", "Blocked fire lane", "emergency", "D-XFJY",
     Tier.GRID, "simple", False, ("消防通道", "堵塞", "楼道堆物", "生命通道", "占用通道")),
    ("ebike_charging", "电动车违规充电", "Unsafe e-bike charging", "emergency", "D-XFJY",
     Tier.GRID, "simple", False, ("电动车", "飞线", "充电", "楼道充电", "电瓶")),
    ("flood_risk", "防汛险情", "Flood risk", "emergency", "D-SL",
     Tier.TOWNSHIP, "complex", True, ("防汛", "内涝", "堤坝", "管涌", "漫堤")),
    ("geological_hazard", "地质灾害隐患", "Geological hazard", "emergency", "D-ZR",
     Tier.TOWNSHIP, "complex", True, ("滑坡", "塌方", "山体", "泥石流", "裂缝")),
    ("gas_leak", "燃气泄漏", "Gas leak", "emergency", "D-ZJ",
     Tier.DEPARTMENT, "general", True, ("燃气", "煤气", "天然气", "泄漏", "煤气味")),
    ("fire", "火情", "Fire", "emergency", "D-XFJY",
     Tier.DEPARTMENT, "general", True, ("着火", "火灾", "冒烟", "火情", "烧起来")),
    ("dangerous_building", "危房险情", "Dangerous building", "emergency", "D-ZJ",
     Tier.TOWNSHIP, "complex", True, ("危房", "开裂", "倾斜", "倒塌", "墙体")),
    ("road_collapse", "道路塌陷", "Road collapse", "emergency", "D-JT",
     Tier.DEPARTMENT, "general", True, ("塌陷", "路面", "坑洞", "地陷", "路基")),
)  # fmt: skip

# --------------------------------------------------------------------------- Shangrao
SHANGRAO_CODE = "3611"
# (code, name, English, kind: district | county | city, grid position row/col from the
# south-west). Codes are the national division codes; the placement is only roughly real.
SHANGRAO_COUNTIES: tuple[tuple[str, str, str, str, int, int], ...] = (
    ("361102", "信州区", "Xinzhou District", "district", 1, 2),
    ("361103", "广丰区", "Guangfeng District", "district", 0, 3),
    ("361104", "广信区", "Guangxin District", "district", 1, 3),
    ("361123", "玉山县", "Yushan County", "county", 2, 3),
    ("361124", "铅山县", "Yanshan County", "county", 0, 2),
    ("361125", "横峰县", "Hengfeng County", "county", 1, 1),
    ("361126", "弋阳县", "Yiyang County", "county", 0, 1),
    ("361127", "余干县", "Yugan County", "county", 0, 0),
    ("361128", "鄱阳县", "Poyang County", "county", 2, 0),
    ("361129", "万年县", "Wannian County", "county", 1, 0),
    ("361130", "婺源县", "Wuyuan County", "county", 2, 2),
    ("361181", "德兴市", "Dexing City", "city", 2, 1),
)

# --------------------------------------------------------------------------- Ji'an, Jizhou
# 吉安市吉州区 (seeds/002): 364 city grids in three grid levels under the district's 总网格 —
# 镇街 (6 streets, 4 towns), 村(社区), and 小区片区 / 村小组 — which are the township,
# community and grid levels of the area tree.
JIAN_CODE = "3608"
JIZHOU_COUNTY: tuple[str, str, str, str, int, int] = (
    "360802",
    "吉州区",
    "Jizhou District",
    "district",
    0,
    0,
)

# --------------------------------------------------------------------------- place names
# Synthetic place names: first character × second character, plus "<surname>家<x>" forms.
# They sound like Jiangxi place names; they are not the real townships and villages.
PLACE_FIRST = (
    "东西南北上下大小新老高石沙水山河湖溪龙凤金银青白黄红桃李梅竹松柏杨柳花茶枫长古太"
    "永丰兴安和平宁福德仁义文华云霞清灵双三五九万朝"
)
PLACE_SECOND = "山岭坑坞源溪塘湖港洲桥口田坪畈埠阳峰林园湾头岗冲垄坂亭门坊店铺墩圩岩潭庄墅渡"
PLACE_CLAN = "王李张刘陈杨黄吴周徐胡朱余郑汪程叶方毛祝"
PLACE_CLAN_SECOND = "坞湾村庄岭山源坂桥畈"

# --------------------------------------------------------------------------- personal names
# Common surnames, roughly in order of frequency (Jiangxi has many 刘, 胡, 余, 汪, 徐, 程).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜钟谭陆汪范金石廖贾夏付方邹熊秦邱江尹段雷龙史陶黎贺顾毛郝龚邵"
    "万钱严洪戴祝占"
)
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文辉红玲斌波宇浩凯鑫婷雪琳晨"
    "欣怡佳俊鹏飞志海燕梅萍林春小丹晓亮成荣新宏琴云峰秋金福根水生发德晖敬慧颖蕾嘉"
)
MOBILE_PREFIXES: tuple[str, ...] = tuple(
    f"1{n}" for n in (30, 31, 32, 33, 35, 36, 37, 38, 39, 50, 51, 52, 55, 57, 58, 59, 77, 80, 81)
) + tuple(f"1{n}" for n in (82, 83, 86, 87, 88, 89, 91, 93, 95, 98, 99))
