"""Error messages in the caller's X-TC-Language (tencent-iai.md §1, §4).

The SDK sends `zh-CN` (its default) or `en-US` on every call. `en-US` (any case) gets the English
detail the refusal was raised with; anything else, a missing header included, gets Tencent's
default, Chinese: the code's message from the table below followed by the English detail in
brackets, so the specific reason (which field, which limit) is never lost. Codes not in the table
fall back to their family's message (the part before the first dot).
"""

from __future__ import annotations

ENGLISH = "en-us"
_IPV = "InvalidParameterValue."
_FO = "FailedOperation."

CHINESE: dict[str, str] = {
    # auth and request (API 3.0 common codes)
    "AuthFailure": "认证失败",
    "AuthFailure.InvalidAuthorization": "请求头部的 Authorization 不符合腾讯云标准",
    "AuthFailure.SecretIdNotFound": "密钥不存在或已被禁用",
    "AuthFailure.SignatureExpire": "签名过期，Timestamp 与服务器时间相差超过允许范围",
    "AuthFailure.SignatureFailure": "签名错误",
    "AuthFailure.TokenFailure": "Token 错误",
    "InvalidAction": "接口不存在",
    "NoSuchVersion": "接口版本不存在",
    "UnsupportedProtocol": "HTTP(S) 请求方法错误，只支持 GET 和 POST 请求",
    "InvalidParameter": "参数错误（类型或格式不正确）",
    "MissingParameter": "缺少参数",
    "UnknownParameter": "未知参数",
    "UnsupportedRegion": "接口不支持所传地域",
    "InvalidParameterValue": "参数取值错误",
    "RequestLimitExceeded": "请求的次数超过了频率限制",
    "LimitExceeded": "超过配额限制",
    "ResourceUnavailable": "资源不可用",
    "ResourceUnavailable.NotReady": "服务未开通",
    "ResourceUnavailable.StopUsing": "服务已停用",
    "InternalError": "内部错误",
    "FailedOperation": "操作失败",
    "FailedOperation.ServerError": "算法服务异常",
    # images and faces
    _IPV + "ImageEmpty": "图片为空",
    _IPV + "UrlIllegal": "URL 格式不合法",
    _IPV + "NoFaceInPhoto": "图片中没有人脸",
    _IPV + "FaceModelVersionIllegal": "算法模型版本不合法",
    _IPV + "QualityControlIllegal": "图片质量控制参数取值不合法",
    _IPV + "FaceMatchThresholdIllegal": "出参阈值不合法",
    _IPV + "UniquePersonControlIllegal": "人员去重参数取值不合法",
    _FO + "ImageDownloadError": "图片下载错误",
    _FO + "ImageDecodeFailed": "图片解码失败",
    _FO + "ImageSizeExceed": "base64 编码后的图片数据大小超过 5M",
    _FO + "ImageResolutionExceed": "图片分辨率过大",
    _FO + "ImageResolutionTooSmall": "图片短边分辨率小于 64",
    _FO + "FaceSizeTooSmall": "人脸因太小被过滤",
    _FO + "FaceQualityNotQualified": "图片质量不符要求",
    "LimitExceeded.ErrorFaceNumExceed": "人脸个数超过限制",
    # paging and limits
    _IPV + "LimitExceed": "返回数量不在取值范围内",
    _IPV + "OffsetExceed": "起始序号过大",
    _IPV + "SearchPersonsExceed": "返回人员数量超出限制",
    _IPV + "GroupIdsExceed": "人员库数量超出限制",
    _IPV + "UploadFaceNumExceed": "上传的人脸数量超出限制",
    # groups
    _IPV + "GroupIdNotExist": "人员库 ID 不存在",
    _IPV + "GroupIdAlreadyExist": "人员库 ID 已经存在，人员库 ID 不可重复",
    _IPV + "GroupIdIllegal": "人员库 ID 包含非法字符",
    _IPV + "GroupIdTooLong": "人员库 ID 超出长度限制",
    _IPV + "GroupNameAlreadyExist": "人员库名称已经存在，人员库名称不可重复",
    _IPV + "GroupNameIllegal": "人员库名称包含非法字符",
    _IPV + "GroupNameTooLong": "人员库名称超出长度限制",
    _IPV + "GroupTagIllegal": "人员库备注包含非法字符",
    _IPV + "GroupTagTooLong": "人员库备注超出长度限制",
    _IPV + "GroupExDescriptionsExceed": "人员库自定义描述字段数量超出限制",
    _IPV + "GroupExDescriptionsNameIdentical": "人员库自定义描述字段名称重复",
    _IPV + "GroupExDescriptionsNameIllegal": "人员库自定义描述字段名称包含非法字符",
    _IPV + "GroupExDescriptionsNameTooLong": "人员库自定义描述字段名称超出长度限制",
    _IPV + "GroupNumExceed": "人员库数量超出限制",
    _IPV + "GroupFaceNumExceed": "人员库中人脸数量超出限制",
    _IPV + "NoFaceInGroups": "人员库中没有人脸",
    _FO + "DuplicatedGroupDescription": "人员库自定义描述字段重复",
    _FO + "AcrossVersionsError": "不同算法模型版本的人员库不可混用",
    _FO + "GroupPersonMapNotExist": "人员不在该人员库中",
    # persons
    _IPV + "PersonIdNotExist": "人员 ID 不存在",
    _IPV + "PersonIdAlreadyExist": "人员 ID 已经存在，人员 ID 不可重复",
    _IPV + "PersonIdIllegal": "人员 ID 包含非法字符",
    _IPV + "PersonIdTooLong": "人员 ID 超出长度限制",
    _IPV + "PersonNameIllegal": "人员名称包含非法字符",
    _IPV + "PersonNameTooLong": "人员名称超出长度限制",
    _IPV + "PersonGenderIllegal": "人员性别设置出错",
    _IPV + "PersonExDescriptionInfosExceed": "人员自定义描述字段数量或序号超出限制",
    _IPV + "PersonExDescriptionsNameIdentical": "人员自定义描述字段名称重复",
    _IPV + "PersonExDescriptionsNameIllegal": "人员自定义描述字段包含非法字符",
    _IPV + "PersonExDescriptionsNameTooLong": "人员自定义描述字段超出长度限制",
    _IPV + "PersonExistInGroup": "人员已存在于该人员库中",
    _IPV + "PersonFaceNumExceed": "单个人员的人脸数量超出限制",
    _IPV + "GroupNumPerPersonExceed": "单个人员所属人员库数量超出限制",
    _IPV + "DeleteFaceNumExceed": "人员至少需要保留一张人脸",
}


def message(code: str, detail: str, language: str | None) -> str:
    """The envelope's Message for `code`: `detail` as raised for en-US, else Chinese + (detail)."""
    if (language or "").strip().lower() == ENGLISH:
        return detail
    chinese = CHINESE.get(code) or CHINESE.get(code.split(".", 1)[0], "请求失败")
    return f"{chinese}（{detail}）" if detail else chinese
