//! Synthetic but plausible Chinese names: streets, roads, people, companies.

use crate::geo::rng::Rng;
use crate::model::{Party, ResponsibleParties};

const PLACE_FIRST: [&str; 30] = [
    "新", "东", "西", "南", "北", "上", "下", "大", "小", "金", "银", "龙", "凤", "桂", "松", "柏",
    "梅", "兰", "竹", "石", "玉", "宝", "云", "月", "星", "华", "平", "安", "兴", "嘉",
];
const PLACE_SECOND: [&str; 18] = [
    "园", "湾", "坪", "桥", "坝", "岗", "湖", "山", "溪", "门", "林", "苑", "塘", "庙", "沟", "场",
    "坡", "村",
];
const SURNAMES: [&str; 30] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
];
const GIVEN: [&str; 30] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "斌", "辉", "鹏", "林",
];
const TOWER_SUFFIX: [&str; 5] = ["大厦", "中心", "广场", "国际", "花园"];

/// A two-character place name such as 金湾 (may repeat; callers dedupe).
pub(crate) fn place_name(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(&PLACE_FIRST), rng.pick(&PLACE_SECOND))
}

pub(crate) fn road_name(rng: &mut Rng) -> String {
    let suffix = rng.pick(&["路", "街", "大道", "支路"]);
    format!("{}{}", place_name(rng), suffix)
}

pub(crate) fn tower_name(rng: &mut Rng) -> String {
    format!(
        "{}{}{}",
        rng.pick(&PLACE_FIRST),
        rng.pick(&PLACE_FIRST),
        rng.pick(&TOWER_SUFFIX)
    )
}

pub(crate) fn person_name(rng: &mut Rng) -> String {
    if rng.f32() < 0.5 {
        format!("{}{}", rng.pick(&SURNAMES), rng.pick(&GIVEN))
    } else {
        format!(
            "{}{}{}",
            rng.pick(&SURNAMES),
            rng.pick(&GIVEN),
            rng.pick(&GIVEN)
        )
    }
}

pub(crate) fn mobile(rng: &mut Rng) -> String {
    let prefix = rng.pick(&[
        "133", "135", "136", "138", "139", "151", "158", "177", "186", "189",
    ]);
    format!("{prefix}{:08}", rng.next_u64() % 100_000_000)
}

pub(crate) fn landline(rng: &mut Rng) -> String {
    format!("023-6{:07}", rng.next_u64() % 10_000_000)
}

pub(crate) fn parties(rng: &mut Rng) -> ResponsibleParties {
    ResponsibleParties {
        safety_responsible: Party {
            name: person_name(rng),
            phone: mobile(rng),
        },
        safety_manager: Party {
            name: person_name(rng),
            phone: mobile(rng),
        },
        maintenance: Party {
            name: format!("重庆{}消防设施维保有限公司", place_name(rng)),
            phone: landline(rng),
        },
    }
}
