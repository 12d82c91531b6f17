-- Fills the board with published challenges until there are :total of them (psql -v total=50000).
--
-- The rows spread evenly over the 8 domains; each domain has 12 subjects, and 3 of the 96 subjects
-- name 稀土 (稀土冶炼分离 in 冶金有色, 稀土永磁材料 in 新材料, 稀土永磁废料再生 in 循环经济), so the
-- keyword 稀土 matches about 3% of the board and 稀土 + 冶金有色 about 1%. Titles, tasks and contents
-- combine the subject with Gansu's regions and industry chains, phrasing like the demo programme's.
-- They go in as published (allowed on INSERT; the amendment trigger guards UPDATE only).
\set ON_ERROR_STOP on

BEGIN;

CREATE TEMPORARY TABLE bench_domains (n int PRIMARY KEY, domain text, chain text, subjects text[]) ON COMMIT DROP;
INSERT INTO bench_domains VALUES
 (0, '冶金有色', '有色冶金', ARRAY[
    '稀土冶炼分离', '镍钴资源综合利用', '铜电解精炼', '铝电解槽节能', '锌冶炼渣无害化处理', '钛合金熔炼',
    '铅锌共生矿选冶', '铂族贵金属提纯', '难处理金矿浸出', '高纯铟制备', '钨钼精深加工', '镁合金压铸']),
 (1, '能源化工', '石油化工', ARRAY[
    '氢能储运装备', '催化裂化分子筛催化剂', '煤制烯烃', '光热发电熔盐储热', '风电叶片检测', '百兆瓦级压缩空气储能',
    '油田采出水处理', '绿氢合成氨', '高比能锂电池电解液', '光伏制氢耦合', '炼化装置节能降碳', '页岩油压裂助剂']),
 (2, '电子信息', '信息产业', ARRAY[
    '数据中心液冷', '集成电路封装测试', '工业互联网标识解析', '北斗高精度定位', '算力调度平台', '半导体引线框架',
    '功率器件模块', '工业软件国产化', '边缘计算网关', '光纤传感监测', '网络安全态势感知', '人工智能视觉质检']),
 (3, '智能装备', '装备制造', ARRAY[
    '数控机床可靠性', '工业机器人减速器', '智能矿山装备', '高速精密轴承', '电液伺服控制系统', '智能制造产线',
    '农机智能作业装备', '特种电机', '石油钻采装备', '输变电智能巡检装备', '增材制造装备', '高端液压元件']),
 (4, '新材料', '新材料', ARRAY[
    '稀土永磁材料', '高纯石英砂', '碳纤维复合材料', '高镍三元正极材料', '特种陶瓷基复合材料', '高性能铝合金型材',
    '石墨烯导热膜', '钒电池电解液', '电子级多晶硅', '光学玻璃', '生物基可降解材料', '高温合金粉末']),
 (5, '生物医药', '中医药', ARRAY[
    '中药材质量追溯', '当归党参有效成分提取', '疫苗佐剂', '重组蛋白药物', '医用同位素', '现代中药配方颗粒',
    '兽用生物制品', '高原特色食品功能因子', '体外诊断试剂', '细胞培养基', '马铃薯种薯脱毒', '药用辅料']),
 (6, '航空航天', '航空航天', ARRAY[
    '航空发动机单晶叶片', '卫星遥感数据处理', '航天器热控材料', '无人机飞控系统', '航空轴承', '商业航天固体发动机',
    '机载电子设备', '航空复合材料构件', '空间环境模拟试验', '通用航空维修', '高超声速风洞测试', '航天紧固件']),
 (7, '循环经济', '绿色环保(含绿色矿山)', ARRAY[
    '退役光伏组件回收', '稀土永磁废料再生', '冶炼废渣资源化', '废旧动力电池梯次利用', '尾矿库生态修复', '工业固废综合利用',
    '矿井水深度处理', '二氧化碳捕集利用', '废旧塑料化学回收', '赤泥综合利用', '农林废弃物高值化', '再生铝保级利用']);

CREATE TEMPORARY TABLE bench_words (regions text[], suffixes text[], verbs text[], aspects text[], methods text[],
                                    goals text[], indicators text[]) ON COMMIT DROP;
INSERT INTO bench_words VALUES (
 ARRAY['兰州', '金昌', '白银', '天水', '武威', '张掖', '平凉', '酒泉', '庆阳', '定西', '陇南', '嘉峪关', '临夏', '甘南'],
 ARRAY['关键技术攻关', '关键制备技术', '国产化替代', '工程化应用示范', '智能化升级', '绿色低碳工艺', '可靠性提升',
       '成套装备研制', '中试验证', '标准体系建设'],
 ARRAY['突破', '研制', '开发', '攻克', '建立', '实现'],
 ARRAY['工艺参数优化', '连续化生产', '在线检测与控制', '关键部件设计', '能耗与排放控制', '寿命评价方法', '缺陷识别与控制',
       '数字化建模仿真'],
 ARRAY['机理分析、小试与中试', '数值模拟与试验验证', '产学研联合攻关', '工艺放大与工程验证'],
 ARRAY['降低生产成本与能耗', '提高产品一致性与成品率', '实现进口替代', '形成可复制推广的技术方案', '支撑产业链延链补链'],
 ARRAY['综合能耗降低20%', '产品合格率≥98%', '形成年产500吨中试线', '申请发明专利≥5项', '制定团体标准1项',
       '关键指标达到国际同类产品水平', '连续稳定运行≥2000小时', '成本降低15%']);

INSERT INTO challenges (programme_id, title, task, content, indicators, category, domain, industry_chain,
                        application_deadline, completion_deadline, funding_ceiling_fen, winners, status, published_at)
SELECT p.id,
       s.subject || w.suffixes[1 + (g.i * 7) % 10],
       w.verbs[1 + g.i % 6] || s.subject || w.aspects[1 + (g.i * 5) % 8] || '技术',
       '面向' || w.regions[1 + (g.i * 3) % 14] || d.chain || '产业需求，围绕' || s.subject || '开展'
           || w.aspects[1 + (g.i * 5) % 8] || '研究，采用' || w.methods[1 + (g.i * 11) % 4] || '相结合的路线，'
           || w.goals[1 + (g.i * 13) % 5] || '。项目由企业牵头，联合高校和科研院所组建创新联合体，在'
           || w.regions[1 + (g.i * 17) % 14] || '建设示范应用场景，完成第三方检测与用户验证。',
       ARRAY[w.indicators[1 + g.i % 8], w.indicators[1 + (g.i + 3) % 8]],
       (ARRAY['core_basic', 'key_product', 'public_support', 'demonstration'])[1 + (g.i * 3) % 4]::challenge_category,
       d.domain, d.chain,
       date_trunc('day', now()) + (1 + g.i % 80) * interval '1 day' + interval '9 hours'
           + (g.i % 6) * interval '30 minutes',
       (now() + interval '3 years')::date + g.i % 365,
       (100 + (g.i * 37) % 401) * 1000000::bigint,
       1 + (g.i % 5 = 0)::int,
       'published', now() - (g.i % 30) * interval '1 day'
FROM generate_series(1, greatest(:total - (SELECT count(*) FROM challenges), 0)::int) AS g(i)
CROSS JOIN bench_words AS w
CROSS JOIN (SELECT id FROM programmes ORDER BY id LIMIT 1) AS p
JOIN bench_domains AS d ON d.n = g.i % 8
CROSS JOIN LATERAL (SELECT d.subjects[1 + (g.i / 8) % 12] AS subject) AS s;

COMMIT;

VACUUM ANALYZE challenges;
