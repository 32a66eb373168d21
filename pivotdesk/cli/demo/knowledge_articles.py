"""The demo's knowledge base as data: 31 topics of the desk's categories, each a Chinese article and its English
translation, and 8 solution templates (replies to the customer with placeholders) the root-cause tree links to.

Pure data, read by `pivotdesk.cli.demo.knowledge`. The products, devices (PD-100 扫码枪, PD-200 收银机, PD-300
自助终端, PD-X1 路由器), fault codes and figures (refunds in 3–5 working days, 5 wrong passwords lock an account for
30 minutes, 600 API calls a minute …) are the ones the demo's tickets, replies and macros use, so an article an
agent finds for a ticket answers it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArticleText:
    """One language's title and Markdown body."""

    title: str
    body: str


@dataclass(frozen=True)
class KnowledgeTopic:
    """A topic of the demo's knowledge base: a Chinese article and its English translation.

    `category` is a key of `people.CATEGORIES`. A template (`template=True`) is a reply to the customer, with
    placeholders, that answers the topic `answers`; it is for agents (internal), never shown in the help centre."""

    key: str
    category: str
    zh: ArticleText
    en: ArticleText
    visibility: str = "public"
    template: bool = False
    answers: str = ""
    draft: bool = False


T = KnowledgeTopic
A = ArticleText

# --- 账务 Billing --------------------------------------------------------------------------------------------------

BILLING: tuple[KnowledgeTopic, ...] = (
    T(
        key="refund_timeline",
        category="refunds",
        zh=A(
            "退款多久到账？",
            """
退款审核通过后，款项将**原路退回**到您付款时使用的账户。不同支付方式的到账时间如下：

| 支付方式 | 到账时间 |
|---|---|
| 微信支付、支付宝 | 1–3 个工作日 |
| 银行卡（借记卡/信用卡） | 3–5 个工作日 |
| 对公转账 | 5–7 个工作日，退回原付款账户 |

**查看退款进度**

1. 登录管理后台，进入“订单 → 我的订单”，找到对应订单。
2. 点击“退款详情”，可以看到审核状态和退款流水号。
3. 如已显示“退款成功”但仍未到账，请凭退款流水号联系银行或支付平台查询。

**温馨提示**

- 未发货订单申请退款，一般当天审核；已发货订单需在仓库收到退回商品并验货后审核。
- 部分商品缺货时，缺货部分的金额会自动退回，无需另行申请。
- 信用卡退款会冲抵当期或下期账单，不会以现金形式退回。
- 超过上述时间仍未到账，请提交工单并附上订单号，我们会为您加急核查。
""",
        ),
        en=A(
            "How long does a refund take?",
            """
Once your refund is approved, the money goes back to your **original payment method**. How long it takes depends
on how you paid:

| Payment method | Time to arrive |
|---|---|
| WeChat Pay, Alipay | 1–3 business days |
| Debit or credit card | 3–5 business days |
| Bank transfer | 5–7 business days, back to the paying account |

**Check the status of your refund**

1. Sign in to the admin console and go to **Orders → My orders**.
2. Open the order and click **Refund details** to see the approval status and the refund reference.
3. If it says **Refunded** but you can't see the money, give the refund reference to your bank or payment provider.

**Good to know**

- Refunds for orders that haven't shipped are usually approved the same day. For shipped orders, we approve the
  refund once the warehouse has received and checked the returned item.
- If part of an order is out of stock, we refund that part automatically — there's no need to ask.
- Card refunds appear as a credit on your statement, not as cash.
- Still nothing after these times? Open a ticket with your order number and we'll chase it for you.
""",
        ),
    ),
    T(
        key="duplicate_charge",
        category="refunds",
        zh=A(
            "同一订单被扣款两次怎么办？",
            """
支付时页面卡顿、重复点击“支付”或网络超时，都可能导致同一订单被扣款两次。请放心，**多扣的款项一定会退回**。

**系统自动处理**

支付平台在每日对账时会识别重复支付，通常在 24 小时内自动将多扣的一笔原路退回，您无需操作。

**24 小时后仍未退回**

1. 在“订单 → 我的订单”中确认该订单只有一笔成功的支付记录。
2. 打开微信、支付宝或网银，截图两笔扣款记录（需能看到交易时间、金额和商户单号）。
3. 提交工单，选择“账务 → 退款”，附上订单号和截图。
4. 我们核实后会提交退款，并在工单中告诉您退款流水号，一般 3–5 个工作日到账。

**如何避免重复扣款**

- 点击“支付”后请耐心等待页面跳转，不要重复点击或刷新页面。
- 如果页面提示“支付结果确认中”，请先到订单详情查看状态，再决定是否重新支付。
""",
        ),
        en=A(
            "Charged twice for the same order",
            """
If the payment page froze, you clicked **Pay** twice, or the connection timed out, you may have been charged twice
for one order. Don't worry — **the extra charge will always be refunded**.

**What happens automatically**

Our payment provider spots duplicate payments when it reconciles each day, usually within 24 hours, and refunds the
extra one to your original payment method. You don't need to do anything.

**Still not refunded after 24 hours?**

1. Under **Orders → My orders**, check that the order shows only one successful payment.
2. In your banking or wallet app, take a screenshot of both charges, with the time, amount and merchant reference
   visible.
3. Open a ticket under **Billing → Refunds** with the order number and the screenshots.
4. Once we've verified it, we submit the refund and post the refund reference in your ticket. It usually arrives
   within 3–5 business days.

**Avoiding it next time**

- After clicking **Pay**, wait for the page to move on; don't click again or refresh.
- If you see "Confirming payment…", check the order's status before you try to pay again.
""",
        ),
    ),
    T(
        key="refund_approval_limits",
        category="refunds",
        visibility="internal",
        zh=A(
            "【内部】退款审批权限与额度",
            """
本文说明各角色可直接批准的退款额度，以及超出额度时的审批路径。**仅限内部使用，请勿向客户透露具体额度。**

| 角色 | 单笔退款上限 | 适用范围 |
|---|---|---|
| 客服专员 | ¥500 | 仅限未发货订单、重复扣款 |
| 主管 | ¥5,000 | 含已发货订单、部分退款 |
| 账务组负责人（刘洋） | ¥50,000 | 超过部分需财务总监审批 |

**处理步骤**

1. 核对订单状态与支付流水；重复扣款需在支付网关中确认两笔扣款均为“已成功”。
2. 额度以内：直接在订单中提交退款，并在工单内部备注中写明退款原因和流水号。
3. 超出额度：给工单加上 `refund-approval` 标签，@ 对应审批人，附上订单号、金额和原因。
4. 审批人须在 4 个工作小时内处理；VIP 与战略客户须在 2 小时内处理。
5. 退款提交后，将工单设为“等待中”，并发送“退款处理中”宏。

**注意**

- 同一客户 30 天内第 3 次申请退款，无论金额大小，都需主管审批。
- 一律原路退回，不得以现金或转账到个人账户的方式退款。
""",
        ),
        en=A(
            "[Internal] Refund approval limits",
            """
Who may approve how much, and where a refund goes when it is over your limit. **Internal only — never quote these
limits to customers.**

| Role | Limit per refund | Scope |
|---|---|---|
| Agent | ¥500 | Unshipped orders and duplicate charges only |
| Supervisor | ¥5,000 | Also shipped orders and partial refunds |
| Billing lead (Liu Yang) | ¥50,000 | Anything above needs the finance director |

**Steps**

1. Check the order status and the payment records. For a duplicate charge, confirm in the payment gateway that both
   charges were captured.
2. Within your limit: submit the refund on the order and leave an internal note with the reason and the refund
   reference.
3. Over your limit: tag the ticket `refund-approval` and @mention the approver with the order number, the amount
   and the reason.
4. Approvers respond within 4 business hours, or 2 hours for VIP and strategic customers.
5. Once the refund is submitted, set the ticket to Pending and send the "Refund in progress" macro.

**Note**

- A customer's third refund within 30 days needs a supervisor, whatever the amount.
- Refunds always go back to the original payment method — never in cash or to a personal account.
""",
        ),
    ),
    T(
        key="vat_invoice",
        category="invoices",
        zh=A(
            "如何开具增值税专用发票？",
            """
企业客户可在订单完成（确认收货）后申请增值税专用发票（专票）；个人客户开具增值税普通发票（电子）。

**开票前请准备**

- 公司全称与纳税人识别号（税号）
- 注册地址、电话
- 开户银行及账号
- 收票邮箱（电子专票）或收件地址（纸质专票）

**申请步骤**

1. 登录管理后台，进入“设置 → 开票信息”，填写并保存以上资料。首次开具专票，需上传一般纳税人证明或加盖公章的开票信息确认函。
2. 进入“订单 → 我的订单”，勾选需要开票的订单，点击“申请开票”，发票类型选择“增值税专用发票”。
3. 提交后 1–3 个工作日内开具。电子专票发送至收票邮箱，也可在订单详情的“发票”中下载；纸质专票通过顺丰寄出。

**常见问题**

- **可以合并开票吗？** 同一抬头的多个订单，勾选后可合并开具一张。
- **电子发票没收到？** 请先检查垃圾邮件，或直接在订单详情中下载。
- **开票信息填错了？** 请参阅《发票信息有误：红冲后重开》。
""",
        ),
        en=A(
            "How to request a special VAT invoice (fapiao)",
            """
Business customers can request a special VAT invoice once an order is complete (delivery confirmed). Individuals
receive a standard electronic VAT invoice.

**Before you start, have these ready**

- Your company's full legal name and taxpayer ID
- Registered address and phone number
- Bank name and account number
- An email address for electronic invoices, or a postal address for paper ones

**Steps**

1. In the admin console, go to **Settings → Invoicing details**, enter the details above and save. For your first
   special VAT invoice, upload proof of general-taxpayer status or an invoicing-details letter with your company
   seal.
2. Go to **Orders → My orders**, select the orders, click **Request invoice** and choose **Special VAT invoice**.
3. We issue it within 1–3 business days. Electronic invoices are emailed to you and can be downloaded from the
   order's **Invoice** tab; paper invoices are sent by SF Express.

**FAQ**

- **Can several orders go on one invoice?** Yes — orders with the same company details can be combined.
- **Didn't get the e-invoice?** Check your spam folder, or download it from the order page.
- **Made a mistake in the details?** See "Wrong invoice details: cancelling and reissuing an invoice".
""",
        ),
    ),
    T(
        key="invoice_reissue",
        category="invoices",
        zh=A(
            "发票信息有误：红冲后重开",
            """
发票抬头、税号或金额有误时，已开具的发票不能直接修改，需要先**红冲**（开具一张对应的红字发票，把原发票冲销），再按正确信息重新开具。

**申请步骤**

1. 在“设置 → 开票信息”中，先把抬头、税号等信息更新为正确内容。
2. 提交工单，选择“账务 → 发票”，写明原发票号码、需要修改的内容和正确信息。
3. 原发票为纸质专票且已认证抵扣的，需由贵公司财务在电子税务局填开《红字发票信息确认单》，并把确认单编号告诉我们；未认证的纸质发票请寄回原件。
4. 资料齐全后，我们在 3 个工作日内完成红冲，按新信息重新开具，并发送至收票邮箱。

**温馨提示**

- 电子普票和未认证的电子专票无需寄回，我们可以直接红冲。
- 跨月的发票同样可以红冲重开，新发票的开票日期为重开当天。
- 因公司更名需要重开的，请同时提供新的营业执照照片。
""",
        ),
        en=A(
            "Wrong invoice details: cancelling and reissuing an invoice",
            """
An invoice can't be edited once it's issued. If the company name, taxpayer ID or amount is wrong, we first cancel
it with a **red-letter (credit) invoice** and then issue a new one with the correct details.

**Steps**

1. Update your company details under **Settings → Invoicing details**.
2. Open a ticket under **Billing → Invoices** with the original invoice number, what is wrong, and the correct
   details.
3. If the original is a paper special VAT invoice that your company has already certified for deduction, your
   finance team files a *Red-letter Invoice Information Form* in the e-tax bureau and sends us its number.
   Uncertified paper invoices must be posted back to us.
4. Within 3 business days of receiving everything, we cancel the original and email you the new invoice.

**Good to know**

- Standard e-invoices and uncertified electronic special invoices don't need to be sent back; we cancel them
  directly.
- Invoices from a previous month can be reissued too. The new invoice is dated the day it is issued.
- If the reason is a change of company name, attach a photo of the new business licence.
""",
        ),
    ),
    T(
        key="monthly_statement",
        category="invoices",
        visibility="internal",
        zh=A(
            "【内部】月结客户的对账单与合并开票",
            """
适用于合同约定月结的企业客户（如华东精密制造等战略客户）。

1. 每月 3 日前，账务组在 ERP 中导出上月订单，生成对账单（Excel 和 PDF 各一份）。
2. 对账单发送至合同登记的财务邮箱，请客户在 5 个工作日内确认。客户提出差异的，逐笔核对订单与退款记录，并在工单中记录调整。
3. 客户确认后，按对账单总额合并开具一张增值税专用发票；超过单张限额的按限额拆分，并在备注栏注明“X 月对账单”。
4. 开票后，把发票号码和对账单编号写进工单内部备注，发送“发票已开具”宏。
5. 月结客户的发票不走后台“申请开票”流程。客户在后台单独申请的，请引导其等待月度合并开票，避免重复开票。

**注意**：对账单确认前不得开票；客户要求提前开票的，需账务组负责人批准。
""",
        ),
        en=A(
            "[Internal] Monthly statements and consolidated invoices",
            """
For business customers billed monthly under their contract (strategic accounts such as Huadong Precision).

1. By the 3rd of each month, Billing exports last month's orders from the ERP and produces the statement (one Excel
   and one PDF).
2. Send it to the finance address on the contract and ask the customer to confirm within 5 business days. If they
   dispute a line, reconcile it order by order against the refunds and record any adjustment in the ticket.
3. Once it's confirmed, issue one consolidated special VAT invoice for the statement total. If that exceeds the
   per-invoice limit, split it at the limit and write "Statement for <month>" in the remarks.
4. Put the invoice number and the statement reference in an internal note and send the "Invoice issued" macro.
5. Monthly customers don't use the self-service **Request invoice** flow. If one requests an invoice there, ask them
   to wait for the monthly invoice so nothing is invoiced twice.

**Note**: never invoice before the statement is confirmed; invoicing early needs the billing lead's approval.
""",
        ),
    ),
    T(
        key="payment_failed",
        category="payments",
        zh=A(
            "支付失败，或付款成功但订单仍显示“待付款”",
            """
**支付失败**

常见原因：银行卡余额或单笔限额不足、网络中断、支付超时（支付页面停留超过 15 分钟）。

1. 确认银行卡状态和限额，或更换支付方式（微信支付、支付宝、银行卡）。
2. 回到“订单 → 我的订单”，在原订单上点击“去支付”，请不要重新下单。
3. 页面显示 TMO-15（支付请求超时）的，请检查网络后重试。

**付款成功，但订单仍为“待付款”**

支付结果回传偶尔会有延迟，一般 10 分钟内自动更新。

1. 请勿重复支付，等待 10 分钟后刷新订单。
2. 仍未更新的，请提交工单并附上支付截图（含商户单号），我们会手动同步支付结果。
3. 如已经重复支付，多扣的款项会原路退回，详见《同一订单被扣款两次怎么办？》。

**对公转账**

转账时请在附言中填写订单号。款项到账后 1 个工作日内确认，确认后订单自动安排发货。
""",
        ),
        en=A(
            'Payment failed, or paid but the order still says "Awaiting payment"',
            """
**Payment failed**

Common causes: not enough balance or a per-transaction limit on the card, a dropped connection, or a timeout (the
payment page was open for more than 15 minutes).

1. Check your card's status and limits, or use another method (WeChat Pay, Alipay or card).
2. Go to **Orders → My orders** and click **Pay now** on the original order. Please don't place a new order.
3. If the page shows TMO-15 (payment request timed out), check your connection and try again.

**Paid, but the order still says "Awaiting payment"**

Sometimes the payment confirmation reaches us late; it normally updates within 10 minutes.

1. Don't pay again. Wait 10 minutes, then refresh the order.
2. Still unchanged? Open a ticket with a screenshot of the payment (including the merchant reference) and we'll
   sync it manually.
3. If you've already paid twice, the extra payment is refunded — see "Charged twice for the same order".

**Bank transfers**

Put the order number in the transfer reference. We confirm a transfer within 1 business day of receiving it, and
the order is then released for shipping automatically.
""",
        ),
    ),
)

# --- 订单 Orders ---------------------------------------------------------------------------------------------------

ORDERS: tuple[KnowledgeTopic, ...] = (
    T(
        key="delivery_delay",
        category="shipping",
        zh=A(
            "物流信息长时间未更新怎么办？",
            """
订单发货后，物流信息一般每 24 小时内至少更新一次。遇到大促、恶劣天气或中转站爆仓时，可能出现 1–3 天不更新的情况。

**您可以先这样做**

1. 在“订单 → 物流跟踪”中查看最后一个物流节点和时间。
2. 复制快递单号，到承运商官网（如顺丰）查询，承运商官网有时比我们的页面更新更快。
3. 最后一个节点是“派送中”的，请留意快递员电话或驿站取件短信。

**以下情况请联系我们**

- 超过 72 小时没有任何物流更新；
- 长时间停留在同一个中转站；
- 物流显示“退回”或“异常件”。

提交工单时请附上订单号和快递单号。我们会向承运商发起查件，一般 48 小时内答复；确认延误的，我们会为您加急派送或重新发货。

**还没发货？**

现货订单在付款后 48 小时内发货，定制或大批量订单以订单页显示的预计发货日期为准。订单发货前可以修改收货地址。
""",
        ),
        en=A(
            "My tracking hasn't updated for days",
            """
After dispatch, tracking normally updates at least once every 24 hours. During big sales, in bad weather or when a
hub is overloaded, it may not move for 1–3 days.

**Try this first**

1. Under **Orders → Tracking**, check the last checkpoint and its time.
2. Copy the tracking number and look it up on the carrier's website (e.g. SF Express); it sometimes updates sooner
   than our page.
3. If the last checkpoint is **Out for delivery**, watch for a call from the courier or a text from a pickup point.

**Contact us if**

- there has been no update for more than 72 hours;
- the parcel has been sitting at the same hub for a long time;
- tracking shows **Returned** or **Exception**.

Include your order number and tracking number in the ticket. We'll open a trace with the carrier and get back to
you within 48 hours; if the parcel is confirmed delayed, we'll expedite it or send a replacement.

**Not shipped yet?**

In-stock orders ship within 48 hours of payment; custom and bulk orders ship on the date shown on the order. You
can change the delivery address until the order ships.
""",
        ),
    ),
    T(
        key="remote_delay",
        category="shipping",
        zh=A(
            "偏远地区配送时效说明",
            """
新疆、西藏、青海、内蒙古西部、海南部分岛屿及部分山区乡镇属于**偏远地区**。承运商需要从末端网点转运或按班次派送，时效会比普通地区多 **2–4 天**。

| 收货地区 | 预计送达（自发货起） |
|---|---|
| 一二线城市 | 1–3 天 |
| 其他地区 | 2–5 天 |
| 偏远地区 | 4–9 天 |

**如何判断是否属于偏远地区**

收货地址属于偏远地区的，下单结算页会提示“偏远地区，预计多 2–4 天送达”。

**包裹已到末端网点，但迟迟未派送**

1. 在物流跟踪中查看末端网点的名称和电话。
2. 可直接致电网点约定派送时间，或到网点自提。
3. 超过预计送达时间 2 天仍未收到的，请提交工单，我们会联系承运商优先派送。

**温馨提示**：发往偏远地区的大件设备（如 PD-300 自助终端）可能需要走物流专线，发货前我们会电话与您确认。
""",
        ),
        en=A(
            "Delivery times for remote areas",
            """
Xinjiang, Tibet, Qinghai, western Inner Mongolia, some of Hainan's islands and some mountain townships are
**remote delivery areas**. Carriers have to transfer parcels from the last depot or deliver on scheduled runs, so
delivery takes **2–4 days longer** than elsewhere.

| Delivery area | Estimated delivery (after dispatch) |
|---|---|
| Major cities | 1–3 days |
| Elsewhere | 2–5 days |
| Remote areas | 4–9 days |

**How to tell**

If your address is in a remote area, checkout shows "Remote area: allow 2–4 extra days".

**The parcel has reached the local depot but isn't being delivered**

1. Find the depot's name and phone number in the tracking details.
2. Call the depot to arrange a delivery time, or collect the parcel there yourself.
3. If it's more than 2 days past the estimated date, open a ticket and we'll ask the carrier to prioritise it.

**Good to know**: large devices such as the PD-300 kiosk may travel to remote areas by freight; we'll call you
before dispatch to confirm.
""",
        ),
    ),
    T(
        key="sorting_missed_scan",
        category="shipping",
        visibility="internal",
        zh=A(
            "【内部】分拣中心漏扫、漏发的核查与补发",
            """
**如何判断**：物流停在“已揽收”或某分拣中心“到件”超过 48 小时，之后没有“发件”扫描，而同批次其他包裹已正常流转——基本可判定为分拣中心漏扫或漏发。

**处理步骤**

1. 在承运商商家后台（顺丰月结账号）查询完整轨迹，截图最后一个扫描节点。
2. 在商家后台提交查件工单，问题类型选“分拣中心滞留”，要求 24 小时内反馈。
3. 给我们的工单加上 `missed-scan` 标签，根因设为“物流 › 分拣中心漏发”。
4. 承运商确认漏发的：要求当日补发并升级为加急，把新单号回填到订单，用“分拣中心漏发”模板答复客户。
5. 承运商 24 小时内无反馈或确认丢失的：直接从仓库重新发货（无需审批；货值超过 ¥5,000 需主管确认），并按丢件流程向承运商索赔。
6. VIP 或战略客户，同时按《升级规则》给予延误补偿（优惠券或延保）。

**注意**：同一分拣中心一周内漏扫 3 票以上的，请在物流群通报，并反馈给物流调度组。
""",
        ),
        en=A(
            "[Internal] Missed scans at a sorting centre: checking and resending",
            """
**How to recognise it**: tracking has stopped at *Picked up*, or *Arrived* at a sorting centre, for more than 48
hours with no *Departed* scan, while other parcels from the same batch have moved on. That is almost always a
missed scan, or a parcel left behind at the sorting centre.

**Steps**

1. Look up the full trace in the carrier's merchant portal (our SF monthly account) and screenshot the last scan.
2. Open a trace request there with the issue type "Held at sorting centre" and ask for an answer within 24 hours.
3. Tag our ticket `missed-scan` and set its root cause to Logistics › Missed at the sorting centre.
4. If the carrier confirms it was left behind: have them send it the same day as express, add the new tracking
   number to the order, and reply with the "missed at the sorting centre" template.
5. If there's no answer within 24 hours, or the parcel is confirmed lost: reship from the warehouse (no approval
   needed; a supervisor confirms shipments worth more than ¥5,000) and claim from the carrier under the lost-parcel
   process.
6. For VIP and strategic customers, also offer delay compensation (a coupon or extended warranty) under the
   escalation rules.

**Note**: if one sorting centre misses three or more parcels in a week, post it in the logistics group and tell the
dispatch team.
""",
        ),
    ),
    T(
        key="lost_parcel",
        category="shipping",
        zh=A(
            "显示已签收但没收到、包裹丢失或破损怎么办？",
            """
**显示“已签收”，但没有收到**

1. 先问问前台、门卫、同事或家人是否代收，并查看附近的快递柜和驿站。
2. 在物流详情中查看签收人和签收照片（顺丰等承运商会显示）。
3. 仍然找不到的，请在签收后 **48 小时内**提交工单，附上订单号和快递单号。我们会向承运商调取签收记录，核实后为您补发或退款。

**包裹丢失**

物流超过 7 天无更新，或承运商确认丢失的，我们会直接为您补发同款商品，无需等待理赔结果。

**收到的商品破损**

1. 请尽量当着快递员的面验货，外箱明显破损的可以拒收。
2. 已经签收的，请在 **24 小时内**拍照：外箱六个面、快递面单、破损部位，以及设备开机后的画面。
3. 提交工单并上传照片，我们确认后免费为您换新，破损的设备由快递上门取回。
""",
        ),
        en=A(
            "Delivered but not received, lost or damaged parcels",
            """
**Tracking says delivered, but you don't have it**

1. Ask reception, security, colleagues or family whether someone took it in, and check nearby parcel lockers and
   pickup points.
2. Check the tracking details for the name of whoever signed and the proof-of-delivery photo (SF Express and other
   carriers show it).
3. Still can't find it? Open a ticket within **48 hours** of the delivery scan with your order and tracking
   numbers. We'll get the signature record from the carrier and, once it's verified, send a replacement or refund
   you.

**Lost parcels**

If tracking hasn't moved for more than 7 days, or the carrier confirms the parcel is lost, we send you a
replacement straight away — you don't have to wait for the claim to be settled.

**Damaged on arrival**

1. If you can, check the parcel in front of the courier; you may refuse a visibly damaged box.
2. If you've already signed for it, take photos within **24 hours**: all six sides of the box, the shipping label,
   the damage, and the device switched on.
3. Open a ticket with the photos. Once we've confirmed the damage, we send a new unit free of charge and a courier
   collects the damaged one.
""",
        ),
    ),
    T(
        key="return_label",
        category="returns",
        zh=A(
            "七天无理由退货与退货面单",
            """
自签收之日起 **7 天内**，商品及配件、包装完好、不影响二次销售的，可以申请无理由退货。

**申请步骤**

1. 进入“订单 → 我的订单”，在订单上点击“申请售后”，选择“退货退款”并填写原因。
2. 审核通过后（一般 1 个工作日内），系统生成**电子退货面单**，通过邮件和短信发给您，也可在售后详情中下载。
3. 把商品、配件、说明书和赠品放回原包装，将面单打印后贴在外箱上；无法打印的，把面单上的退货码告诉快递员即可。
4. 预约顺丰上门取件，或送到附近的顺丰网点。
5. 仓库收货验货后 1–2 个工作日内退款，款项原路退回。

**运费说明**

- 质量问题或发错货：运费由我们承担，使用退货面单即可，无需垫付。
- 无理由退货：运费由您承担，从退款中扣除（首重 ¥12）。

**不支持无理由退货的商品**：已激活授权的软件、定制或刻字商品、已拆封使用的耗材。
""",
        ),
        en=A(
            "Returns within 7 days and your return label",
            """
You can return an item for any reason within **7 days** of delivery, as long as the item, its accessories and the
packaging are complete and it can be resold.

**Steps**

1. Go to **Orders → My orders**, click **After-sales** on the order, choose **Return and refund** and give a reason.
2. Once the return is approved (usually within 1 business day), we create an **electronic return label** and send it
   by email and text message. You can also download it from the after-sales page.
3. Pack the item, accessories, manual and any free gifts in the original box and stick the printed label on it. No
   printer? Just give the courier the return code shown on the label.
4. Book an SF Express pickup, or drop the parcel at an SF outlet.
5. We refund you within 1–2 business days of the warehouse receiving and checking the item, to your original
   payment method.

**Who pays for shipping**

- Faulty or wrong item: we do. Use the label; you pay nothing upfront.
- Change of mind: you do, and it's deducted from the refund (¥12 for the first kilo).

**Not returnable for change of mind**: software whose licence has been activated, customised or engraved items, and
opened consumables.
""",
        ),
    ),
    T(
        key="exchange",
        category="returns",
        zh=A(
            "发错型号或质量问题，如何换货？",
            """
**适用情况**

- 收到的型号、颜色或配置与订单不符；
- 签收 15 天内出现非人为的质量问题（如无法开机、扫码模组失灵）。

**换货步骤**

1. 在“订单 → 我的订单”中点击“申请售后”，选择“换货”，选择正确的型号（如 PD-100 扫码枪、PD-200 收银机），并上传收到的商品和外箱标签照片。
2. 质量问题请同时上传故障照片或视频；设备显示错误代码的，请注明代码。
3. 审核通过后，我们先发出新设备，同时安排顺丰上门取回原设备（**先发后退**，不影响门店营业）。
4. 请在收到新设备后 7 天内，把原设备连同配件交给快递员。

**温馨提示**

- 换货运费全部由我们承担。
- 新设备的保修期从新设备签收之日起重新计算。
- 签收超过 15 天的质量问题，请按保修流程申请维修，详见《申请上门维修与保修政策》。
""",
        ),
        en=A(
            "Exchanging a wrong or faulty item",
            """
**When you can exchange**

- The model, colour or configuration you received doesn't match your order.
- Within 15 days of delivery, the device develops a fault you didn't cause (it won't power on, the scan module
  fails, and so on).

**Steps**

1. Under **Orders → My orders**, click **After-sales**, choose **Exchange**, select the correct model (e.g. PD-100
   scanner, PD-200 POS) and upload photos of what you received and of the label on the box.
2. For a fault, add a photo or video of it, and any error code the device shows.
3. Once approved, we send the replacement first and book an SF Express pickup for the original (**replacement
   first, return after**, so your store is never without a device).
4. Hand the original, with its accessories, to the courier within 7 days of receiving the replacement.

**Good to know**

- We pay all shipping for exchanges.
- The replacement's warranty starts on the day it's delivered.
- For faults after 15 days, request a repair under warranty — see "On-site repair and warranty".
""",
        ),
    ),
)

# --- 账号 Account --------------------------------------------------------------------------------------------------

ACCOUNT: tuple[KnowledgeTopic, ...] = (
    T(
        key="password_reset",
        category="login",
        zh=A(
            "忘记密码怎么办？收不到验证码怎么办？",
            """
**重设密码**

1. 在管理后台登录页点击“忘记密码”。
2. 输入注册手机号（或邮箱），完成滑块验证。
3. 输入收到的 6 位短信验证码（10 分钟内有效），设置新密码。
4. 新密码需 8–32 位，同时包含字母和数字，且不能与最近 3 次使用过的密码相同。

**收不到验证码**

1. 确认手机号与注册时一致，手机没有停机、信号正常。
2. 检查短信是否被手机安全软件拦截（查看“骚扰拦截”）。
3. 验证码 60 秒内只能获取一次，同一手机号每天最多 10 次，请勿频繁点击。
4. 仍然收不到的，可切换为“邮箱验证”，重置邮件会发送到注册邮箱（请同时查看垃圾邮件）。

**手机号已经不用了？**

请让贵公司的管理员在“设置 → 员工”中为您修改手机号；如果您本人就是管理员，请提交工单，我们会在核实企业身份后协助处理。
""",
        ),
        en=A(
            "Forgot your password, or not getting the code?",
            """
**Reset your password**

1. On the admin console's sign-in page, click **Forgot password**.
2. Enter the mobile number (or email address) you registered with and complete the slider check.
3. Enter the 6-digit code we text you (valid for 10 minutes) and choose a new password.
4. Passwords need 8–32 characters, with both letters and numbers, and can't match any of your last 3 passwords.

**Not getting the code?**

1. Make sure it's the number you registered with, and that your phone has signal and service.
2. Check whether a security app has filtered the text message as spam.
3. You can request one code every 60 seconds and at most 10 a day per number, so don't keep tapping Resend.
4. Still nothing? Switch to **Verify by email** — the reset link goes to your registered email address (check your
   spam folder too).

**No longer have that phone number?**

Ask your company's administrator to update your number under **Settings → Staff**. If you are the administrator,
open a ticket and we'll help once we've verified your company.
""",
        ),
    ),
    T(
        key="locked_2fa",
        category="login",
        zh=A(
            "账号被锁定，或换手机后无法通过二次验证",
            """
**账号被锁定**

连续输错密码 **5 次**，账号会被锁定 **30 分钟**，到时间后自动解锁。

1. 请等待 30 分钟后再试。锁定期间继续尝试登录，锁定时间会重新计算。
2. 记不清密码的，解锁后请直接用“忘记密码”重设。
3. 超过 30 分钟仍提示锁定，可能是管理员手动冻结了账号，请联系贵公司的后台管理员，或提交工单。

**换手机后无法通过二次验证**

换手机前，建议先在“个人设置 → 安全 → 二次验证”中解绑旧设备，再在新手机上重新绑定。旧手机已经无法使用的：

1. 用开启二次验证时保存的**备用恢复码**登录（每个恢复码只能用一次），登录后重新绑定新手机。
2. 没有恢复码的，请让管理员在“设置 → 员工”中为您“重置二次验证”。
3. 管理员本人无法登录的，请用注册邮箱提交工单并附上营业执照照片，核实后我们为您重置，一般 1 个工作日内完成。
""",
        ),
        en=A(
            "Account locked, or can't pass two-factor authentication after changing phones",
            """
**Locked account**

After **5** wrong passwords in a row, the account is locked for **30 minutes** and then unlocks by itself.

1. Wait 30 minutes before trying again. Each attempt during the lock starts the 30 minutes over.
2. If you're not sure of your password, use **Forgot password** once the lock has expired.
3. Still locked after 30 minutes? An administrator may have suspended the account — ask your company's admin, or
   open a ticket.

**New phone and can't pass two-factor authentication (2FA)**

Before changing phones, remove the old device under **Profile → Security → Two-factor authentication** and set up
the new one. If the old phone is already gone:

1. Sign in with one of the **recovery codes** you saved when you turned on 2FA (each works once), then set up the
   new phone.
2. No recovery codes? Ask your administrator to choose **Reset 2FA** for you under **Settings → Staff**.
3. If you are the administrator and can't sign in, open a ticket from your registered email address with a photo
   of your business licence. We reset 2FA once you're verified, usually within 1 business day.
""",
        ),
    ),
    T(
        key="account_takeover",
        category="login",
        visibility="internal",
        zh=A(
            "【内部】疑似账号被盗的处置流程",
            """
客户反馈异地登录、陌生设备登录，或订单、收款信息被篡改时，按以下流程处理。**工单优先级设为“紧急”，并抄送安全组。**

1. **先止损**：在客户账号的“安全”页点击“冻结账号”和“强制下线所有会话”，同时吊销该账号下的全部 API 令牌。
2. **核实身份**：请客户用注册邮箱回复工单，并提供营业执照照片；与注册资料一致后，在内部备注中写明“身份已核实”。核实前不得透露登录日志细节，也不得修改手机号或邮箱。
3. **排查**：导出近 30 天的登录日志（IP、地区、设备），标出异常记录；发现境外代理 IP 或短时间内多地登录的，截图附在工单中并上报安全组。
4. **检查改动**：核对收货地址、结算账户、子账号和 Webhook 地址是否被修改，有改动的逐项恢复。
5. **恢复**：协助客户重设密码、强制开启二次验证，然后解冻账号。
6. **结案**：在工单中记录时间线和处置结果；涉及资金损失的，转交法务合规。
""",
        ),
        en=A(
            "[Internal] Suspected account takeover",
            """
When a customer reports sign-ins from an unknown place or device, or changed order or payout details, follow these
steps. **Set the ticket to Urgent and copy the Security team.**

1. **Contain**: on the account's Security page, click **Suspend account** and **Sign out all sessions**, and revoke
   every API token on the account.
2. **Verify identity**: ask the customer to reply from the registered email address with a photo of the business
   licence. When it matches, write "Identity verified" in an internal note. Until then, don't share details of the
   sign-in log, and don't change the phone number or email address.
3. **Investigate**: export 30 days of sign-in logs (IP, region, device) and flag anything unusual. Foreign proxy
   IPs, or sign-ins from several regions within minutes: screenshot them into the ticket and report them to
   Security.
4. **Check for changes**: delivery addresses, payout accounts, sub-accounts and webhook URLs. Revert anything that
   was changed.
5. **Restore**: help the customer reset the password, enforce 2FA, then lift the suspension.
6. **Close out**: record the timeline and the outcome in the ticket. If money was lost, hand over to Legal &
   Compliance.
""",
        ),
    ),
    T(
        key="sso",
        category="login",
        draft=True,
        zh=A(
            "配置单点登录（SSO）",
            """
企业版支持通过 **SAML 2.0** 或 **OIDC** 接入贵公司的身份提供商（如企业微信、飞书、钉钉、Microsoft Entra ID、Okta），员工用公司账号即可登录管理后台。

**配置前准备**

- 需要“管理员”角色；
- 在身份提供商中为本系统创建一个应用，准备好元数据 URL（SAML）或 Client ID 与 Client Secret（OIDC）。

**配置步骤**

1. 进入“设置 → 安全 → 单点登录”，选择协议类型。
2. 复制页面上的回调地址（ACS URL / Redirect URI）和实体 ID，填到身份提供商的应用配置中。
3. 把身份提供商的元数据 URL 或 Client ID、Client Secret 填回本页，邮箱属性映射为 `email`。
4. 点击“测试连接”，用一个测试账号完成登录。
5. 测试通过后，开启“允许 SSO 登录”。建议至少保留一个管理员的密码登录，以便 SSO 故障时仍能进入后台。

**常见问题**

- **提示“用户不存在”**：SSO 只能登录已有的员工账号，请先在“设置 → 员工”中添加，或开启“首次登录自动创建”。
- **签名证书过期**：身份提供商更换签名证书后，需要重新上传元数据。
""",
        ),
        en=A(
            "Setting up single sign-on (SSO)",
            """
Enterprise plans can connect your identity provider over **SAML 2.0** or **OIDC** (for example WeCom, Feishu,
DingTalk, Microsoft Entra ID or Okta), so your staff sign in to the admin console with their company account.

**Before you start**

- You need the Administrator role.
- Create an application for us in your identity provider, and have its metadata URL (SAML) or its client ID and
  client secret (OIDC) to hand.

**Steps**

1. Go to **Settings → Security → Single sign-on** and choose the protocol.
2. Copy the callback address (ACS URL / redirect URI) and the entity ID shown on the page into your identity
   provider's application.
3. Paste the provider's metadata URL, or the client ID and secret, back into the page and map the email attribute
   to `email`.
4. Click **Test connection** and sign in with a test account.
5. When the test passes, turn on **Allow SSO sign-in**. Keep password sign-in for at least one administrator so you
   can still get in if SSO fails.

**Common problems**

- **"User not found"**: SSO only signs in existing staff. Add them under **Settings → Staff** first, or turn on
  **Create on first sign-in**.
- **Signing certificate expired**: when your provider rotates its certificate, upload the new metadata.
""",
        ),
    ),
    T(
        key="users_roles",
        category="permissions",
        zh=A(
            "添加员工子账号，分配角色和门店权限",
            """
管理员可以为每位员工开通子账号，通过**角色**和**门店范围**控制他们能看到的数据。

**添加子账号**

1. 进入“设置 → 员工”，点击“添加员工”。
2. 填写姓名和手机号。员工用手机号登录，首次登录时设置密码。
3. 选择角色（见下表），并在“门店范围”中勾选该员工负责的门店。
4. 保存后，员工会收到一条带登录链接的短信。

| 角色 | 权限 |
|---|---|
| 管理员 | 全部功能，包括员工、开票和安全设置 |
| 店长 | 查看和处理所负责门店的订单、报表和设备 |
| 店员 | 收银、查库存，不能查看报表 |
| 财务 | 订单、对账单和发票，不能操作设备 |

需要其他组合的，可在“设置 → 员工 → 角色”中点击“新建角色”，按需勾选权限。

**员工离职交接**

1. 在员工详情页点击“转移数据”，把其名下未完成的订单和客户转给接手的同事。
2. 再点击“停用账号”。停用后该员工立即无法登录，历史操作记录会保留。
""",
        ),
        en=A(
            "Adding staff accounts with roles and store access",
            """
Administrators can give each member of staff their own sub-account and control what they see with a **role** and a
**store scope**.

**Add a sub-account**

1. Go to **Settings → Staff** and click **Add staff**.
2. Enter their name and mobile number. They sign in with that number and set a password the first time.
3. Choose a role (see below) and tick the stores they look after under **Store scope**.
4. Save. They'll receive a text message with a sign-in link.

| Role | What they can do |
|---|---|
| Administrator | Everything, including staff, invoicing and security settings |
| Store manager | Orders, reports and devices of their own stores |
| Cashier | Take payments and check stock; no reports |
| Finance | Orders, statements and invoices; no device settings |

Need a different mix? Under **Settings → Staff → Roles**, click **New role** and tick the permissions you want.

**When someone leaves**

1. On their profile, click **Transfer data** to hand their open orders and customers to a colleague.
2. Then click **Deactivate**. They can no longer sign in, and their history is kept.
""",
        ),
    ),
)

# --- 技术问题 Technical --------------------------------------------------------------------------------------------

TECHNICAL: tuple[KnowledgeTopic, ...] = (
    T(
        key="device_error_codes",
        category="device",
        zh=A(
            "设备错误代码速查（PD-100 / PD-200 / PD-300 / PD-X1）",
            """
设备屏幕或诊断日志中出现错误代码时，可以先对照下表处理。处理后仍然报错的，请在“设置 → 关于 → 导出日志”中导出诊断日志，连同设备序列号一起提交工单。

| 代码 | 含义 | 常见机型 | 处理方法 |
|---|---|---|---|
| E-1043 | 网络模块初始化失败 | PD-200、PD-300 | 长按电源键 10 秒强制重启；4G 版检查 SIM 卡是否插好 |
| E-2210 | 主控制器通信异常 | PD-200、PD-300 | 按《重置控制器》操作 |
| NET-504 | 连接云端超时 | 全部 | 检查网络；防火墙放行 443 端口 |
| HTTP-502 | 云端网关暂时不可用 | 全部 | 稍后重试，或查看服务状态页 |
| TMO-15 | 支付请求超时（15 秒） | PD-200 | 检查网络后重新发起收款 |
| PWR-07 | 供电电压异常 | 全部 | 使用原装电源适配器，不要接在插排末端 |
| SCN-12 | 扫码模组读取失败 | PD-100 | 清洁扫描窗口，在“设置 → 扫描 → 校准”中重新校准 |
| DB-3001 | 本地数据库损坏 | PD-200、PD-300 | “设置 → 维护 → 清除缓存”后重新同步 |

**温馨提示**

- PD-X1 路由器指示灯红色常亮，表示无法连接上级网络，请检查宽带线。
- 同一门店多台设备同时报 E-1043 或 NET-504 的，多半是门店网络问题，请先重启路由器。
""",
        ),
        en=A(
            "Device error codes (PD-100 / PD-200 / PD-300 / PD-X1)",
            """
When a device shows an error code on screen or in its diagnostic log, try the fix below first. If the error
persists, export the diagnostic log (**Settings → About → Export log**) and open a ticket with it and the device's
serial number.

| Code | Meaning | Usually on | What to do |
|---|---|---|---|
| E-1043 | Network module failed to start | PD-200, PD-300 | Hold the power button for 10 s to force a restart; on 4G models, reseat the SIM |
| E-2210 | Main controller not responding | PD-200, PD-300 | Follow "Resetting the controller" |
| NET-504 | Timed out reaching the cloud | All | Check the network; allow port 443 through the firewall |
| HTTP-502 | Cloud gateway temporarily unavailable | All | Retry later or check the status page |
| TMO-15 | Payment request timed out (15 s) | PD-200 | Check the network and take the payment again |
| PWR-07 | Abnormal supply voltage | All | Use the original power adapter, not the end of a power strip |
| SCN-12 | Scan module read failure | PD-100 | Clean the scan window and recalibrate under **Settings → Scanning → Calibrate** |
| DB-3001 | Local database corrupted | PD-200, PD-300 | **Settings → Maintenance → Clear cache**, then sync again |

**Good to know**

- A solid red light on the PD-X1 router means it can't reach the upstream network; check the broadband cable.
- If several devices in one store show E-1043 or NET-504 at the same time, it's almost always the store's network —
  restart the router first.
""",
        ),
    ),
    T(
        key="firmware_update",
        category="device",
        zh=A(
            "如何升级或回退设备固件？",
            """
我们会定期发布固件更新，修复已知问题并提升稳定性。当前推荐版本：**2.4.2**。

**在线升级（推荐）**

1. 打开手机 App，进入“设备”，选择需要升级的设备。
2. 点击“固件升级”，阅读版本说明后点击“立即升级”。
3. 升级约需 5–10 分钟，期间设备会自动重启 1–2 次。**请保持通电和联网，不要拔电源。**
4. 升级完成后，在设备的“设置 → 关于”中确认版本号。

**用 U 盘升级**（设备无法联网时）

1. 在管理后台“设备 → 固件下载”中下载对应机型的固件包，拷贝到 FAT32 格式 U 盘的根目录。
2. 把 U 盘插入设备，进入“设置 → 维护 → 本地升级”。
3. 提示 0x8007045D 的，说明 U 盘读写出错，请换一个 U 盘重新拷贝固件包。

**回退到旧版本**

升级后 7 天内，可以在“固件升级 → 历史版本”中回退到上一个版本。比如升级后扫码变慢，可以先回退，再提交工单告诉我们机型和版本号。

**注意**：固件低于 2.3 的设备，升级前请先“清除缓存”；2.3.1 版本存在 4G 模块断连后无法重连的问题，请尽快升级。
""",
        ),
        en=A(
            "Updating or rolling back device firmware",
            """
We release firmware updates regularly to fix known issues and improve stability. Recommended version: **2.4.2**.

**Update over the air (recommended)**

1. Open the mobile app, go to **Devices** and choose the device.
2. Tap **Firmware update**, read the release notes and tap **Update now**.
3. The update takes 5–10 minutes and the device restarts once or twice. **Keep it powered and online — don't
   unplug it.**
4. When it's done, check the version under **Settings → About** on the device.

**Update from a USB stick** (when the device can't get online)

1. In the admin console, download the firmware for your model from **Devices → Firmware downloads** and copy it to
   the root of a FAT32 USB stick.
2. Plug the stick into the device and go to **Settings → Maintenance → Local update**.
3. Error 0x8007045D means the USB stick couldn't be read; copy the firmware to another stick and try again.

**Roll back**

Within 7 days of an update, you can go back to the previous version under **Firmware update → Previous
versions** — for example if scanning has become slow. Then open a ticket with the model and version number.

**Note**: on firmware older than 2.3, clear the cache before updating. Version 2.3.1 has a known issue where the 4G
module doesn't reconnect after dropping out; please update as soon as you can.
""",
        ),
    ),
    T(
        key="controller_reset",
        category="device",
        zh=A(
            "重置控制器（PD-200 收银机 / PD-300 自助终端）",
            """
设备报 E-2210、触摸屏部分区域点不动、外设（小票打印机、扫码枪）无法识别，或重启后问题依旧时，可以**重置控制器**。重置只恢复主控的运行参数，**不会删除订单、商品和收银数据**。

**操作前**

1. 在“设置 → 关于”中查看固件版本。
2. **固件低于 2.3 的，必须先清除缓存**：进入“设置 → 维护 → 清除缓存”，等待提示“清除完成”。旧版本固件不清除缓存就直接重置，设备可能反复重启。
3. 确认当前没有进行中的收款。

**重置控制器**

1. 进入“设置 → 维护 → 重置控制器”，输入管理员密码。
2. 点击“确认重置”，设备自动重启，约需 2 分钟。
3. 屏幕无法操作时：关机后用卡针长按机身背面的 RESET 孔 5 秒，再开机。
4. 重启后重新连接网络，并在“设置 → 外设”中检查打印机和扫码枪是否已识别。

**仍未解决？**

请导出诊断日志（“设置 → 关于 → 导出日志”）并提交工单。问题解决后，建议把固件升级到最新版本。
""",
        ),
        en=A(
            "Resetting the controller (PD-200 POS / PD-300 kiosk)",
            """
If the device shows E-2210, part of the touchscreen doesn't respond, peripherals (receipt printer, scanner) aren't
recognised, or a restart doesn't help, **reset the controller**. A reset restores the controller's settings only;
**orders, products and sales data are kept**.

**Before you start**

1. Check the firmware version under **Settings → About**.
2. **On firmware older than 2.3, clear the cache first**: go to **Settings → Maintenance → Clear cache** and wait
   for "Cache cleared". Resetting older firmware without clearing the cache can leave the device restarting over
   and over.
3. Make sure no payment is in progress.

**Reset the controller**

1. Go to **Settings → Maintenance → Reset controller** and enter the administrator password.
2. Tap **Confirm reset**. The device restarts by itself, which takes about 2 minutes.
3. If the screen doesn't respond: switch the device off, press and hold the RESET pinhole on the back for 5 seconds
   with a SIM tool, then switch it on.
4. After the restart, reconnect to the network and check under **Settings → Peripherals** that the printer and
   scanner are recognised.

**Still not working?**

Export the diagnostic log (**Settings → About → Export log**) and open a ticket. Once it's fixed, we recommend
updating to the latest firmware.
""",
        ),
    ),
    T(
        key="device_known_issues",
        category="device",
        visibility="internal",
        zh=A(
            "【内部】设备已知问题与批量故障上报",
            """
**当前已知问题**

| 问题单 | 现象 | 影响范围 | 处理 |
|---|---|---|---|
| PRB-1182 | 报 E-1043 / NET-504，4G 断连后无法自动重连 | 4G 模块固件 v2.3.1 | 升级到 2.4.2；临时方案为强制重启 |
| DEV-4410 | App 升级后一打开就闪退 | App v5.2.0（安卓、iOS） | 修复版 v5.2.1；期间可用网页版后台 |
| PRB-1207 | 升级固件后扫码变慢 | PD-100，固件 2.4.0 | 回退到 2.3.x，等待 2.4.3 |

**关联工单**：确认属于已知问题的，把工单关联到对应问题单，加上 `known-issue` 标签，无需再单独排查。

**批量故障的判定与上报**

1. 同一批次（序列号前 6 位相同）或同一地区 24 小时内出现 **5 例及以上**相同错误代码，视为疑似批量故障。
2. 在技术支持群通报，并新建问题单，附上工单列表、序列号、固件版本和诊断日志。
3. 同时通知质量部；涉及 VIP 或战略客户的，通知其客户成功经理。
4. 多家门店设备同时离线（紧急）：先确认云端服务状态，再排查客户网络，必要时安排工程师上门。
""",
        ),
        en=A(
            "[Internal] Known device issues and reporting batch faults",
            """
**Current known issues**

| Problem | Symptom | Affects | Action |
|---|---|---|---|
| PRB-1182 | E-1043 / NET-504; 4G doesn't reconnect after dropping out | 4G module firmware v2.3.1 | Update to 2.4.2; workaround: force restart |
| DEV-4410 | App crashes on launch after updating | App v5.2.0 (Android and iOS) | Fixed in v5.2.1; use the web console meanwhile |
| PRB-1207 | Slow scanning after a firmware update | PD-100 on firmware 2.4.0 | Roll back to 2.3.x until 2.4.3 |

**Linking tickets**: when a ticket matches a known issue, link it to the problem and tag it `known-issue`; there's
no need to troubleshoot it separately.

**Recognising and reporting a batch fault**

1. Five or more reports of the same error code within 24 hours from one batch (same first 6 characters of the
   serial number) or one region are a suspected batch fault.
2. Post it in the technical support group and open a problem with the list of tickets, serial numbers, firmware
   versions and diagnostic logs.
3. Tell the Quality team; if VIP or strategic customers are affected, tell their customer success manager too.
4. Devices offline in several stores at once (urgent): check the cloud service status first, then the customer's
   network, and send an engineer if needed.
""",
        ),
    ),
    T(
        key="licence_expired",
        category="software",
        zh=A(
            "软件授权失效怎么办？",
            """
Pivot 门店客户端（Windows / macOS）启动时提示“软件授权失效”“授权已过期”或“授权已被占用”的，请按以下步骤处理。

**标准处理方法**

1. 确认授权在有效期内：在管理后台“设置 → 订阅与授权”中查看到期日，已过期的请先续费。
2. 打开客户端的“设置 → 授权”，点击“**重新激活**”，输入授权码（可在后台“订阅与授权”中复制）。
3. 提示“授权已被占用”的，说明该授权码已绑定到另一台电脑：请先在旧电脑的“设置 → 授权”中点击“注销授权”；旧电脑已无法使用的，可在后台“订阅与授权 → 设备列表”中解绑。
4. 重新激活后重启客户端。

**macOS 还需配置防火墙权限**

在 macOS 上，除上述步骤外，还**必须配置防火墙权限**，否则客户端无法连接授权服务器，重新激活后仍会提示授权失效：

1. 打开“系统设置 → 网络 → 防火墙”，点击“选项”。
2. 添加“Pivot 门店客户端”，设为“允许传入连接”。
3. 装有第三方安全软件的，也请把客户端加入白名单。
4. 退出并重新打开客户端，再次点击“重新激活”。

**温馨提示**：授权需要联网校验，电脑离线超过 7 天也会提示授权失效，联网后重新激活即可。
""",
        ),
        en=A(
            "Software licence no longer valid",
            """
If the Pivot Store desktop app (Windows or macOS) says "Licence invalid", "Licence expired" or "Licence already in
use" when it starts, work through these steps.

**Standard fix**

1. Check that the licence is current: in the admin console, **Settings → Subscription & licences** shows the expiry
   date. Renew it first if it has expired.
2. In the desktop app, open **Settings → Licence**, click **Reactivate** and enter your licence key (copy it from
   **Subscription & licences**).
3. "Licence already in use" means the key is bound to another computer. Click **Deactivate licence** under
   **Settings → Licence** on the old computer or, if that computer is gone, unbind it under **Subscription &
   licences → Devices** in the admin console.
4. Restart the app after reactivating.

**On macOS, allow the app through the firewall too**

On macOS you **also need to set up the firewall permission**; otherwise the app can't reach the licence server and
still reports the licence as invalid after reactivation:

1. Open **System Settings → Network → Firewall** and click **Options**.
2. Add **Pivot Store** and set it to **Allow incoming connections**.
3. If you use third-party security software, add the app to its allow list as well.
4. Quit and reopen the app, then click **Reactivate** again.

**Good to know**: licences are checked online. After more than 7 days offline, the app also reports the licence as
invalid — reconnect and reactivate.
""",
        ),
    ),
    T(
        key="api_errors",
        category="api",
        zh=A(
            "API 常见错误：401、403 与 429 限流",
            """
**401 Unauthorized**

请求没有携带有效的 API 令牌。

1. 确认请求头为 `Authorization: Bearer <令牌>`，Bearer 后面有一个空格。
2. 令牌可能已过期或被吊销：在管理后台“设置 → 开放平台 → API 令牌”中查看状态，必要时重新生成。
3. 沙箱环境的令牌不能用于正式环境，反之亦然。

**403 Forbidden**

令牌有效，但没有该接口的权限范围（scope）。请在生成令牌时勾选对应范围，例如同步订单需要 `orders:read`。

**429 Too Many Requests**

每个令牌默认限额为**每分钟 600 次**，另有**每秒 20 次**的突发上限。批量同步时，即使每分钟总数不到 600 次，短时间内集中发送也会触发 429。

1. 读取响应头 `Retry-After`，等待相应秒数后再重试。
2. 采用指数退避（1 秒、2 秒、4 秒……），不要立即重试。
3. 使用批量接口（如 `/api/v1/products/batch`，每次最多 100 条），可以大幅减少请求次数。
4. 响应头 `X-RateLimit-Remaining` 显示当前窗口的剩余次数。

长期需要更高限额的，请联系客户经理升级套餐。

**500 / 502**

多为服务端临时问题，请按上述退避策略重试；持续超过 10 分钟的，请提交工单，并附上响应中的 `request_id`。
""",
        ),
        en=A(
            "Common API errors: 401, 403 and 429 rate limits",
            """
**401 Unauthorized**

The request doesn't carry a valid API token.

1. Check the header reads `Authorization: Bearer <token>`, with one space after Bearer.
2. The token may have expired or been revoked: check it under **Settings → Developer platform → API tokens** in the
   admin console and generate a new one if needed.
3. Sandbox tokens don't work in production, and production tokens don't work in the sandbox.

**403 Forbidden**

The token is valid but lacks the scope the endpoint needs. Tick the scope when you create the token — syncing
orders, for example, needs `orders:read`.

**429 Too Many Requests**

Each token may make **600 requests a minute**, with a burst limit of **20 a second**. A bulk sync can hit 429 even
when it stays under 600 a minute, if it sends its requests all at once.

1. Read the `Retry-After` header and wait that many seconds before retrying.
2. Back off exponentially (1 s, 2 s, 4 s…) rather than retrying immediately.
3. Use the batch endpoints (e.g. `/api/v1/products/batch`, up to 100 items per call) to make far fewer requests.
4. The `X-RateLimit-Remaining` header tells you how many requests are left in the current window.

If you need a higher limit for the long term, ask your account manager about upgrading your plan.

**500 / 502**

These are usually temporary problems on our side. Retry with the back-off above; if it lasts more than 10 minutes,
open a ticket with the `request_id` from the response.
""",
        ),
    ),
    T(
        key="webhooks",
        category="api",
        zh=A(
            "Webhook 收不到回调怎么办？",
            """
配置了订单状态变更等 Webhook 却收不到回调，请按以下顺序排查：

1. **查看投递记录**：进入“设置 → 开放平台 → Webhook”，点开对应地址，查看“最近投递”，每条记录都有响应码和耗时。
2. **响应超时**：接收端须在 **5 秒内**返回 2xx。耗时较长的处理，请先返回 200，再异步处理。
3. **连续失败被暂停**：连续失败 24 小时的地址会被自动暂停，状态显示“已暂停”。修复后点击“重新启用”，并可在投递记录中“重新发送”失败的事件。
4. **HTTPS 证书**：接收地址须使用受信任的证书，自签名证书、过期证书或不完整的证书链都会导致投递失败。
5. **防火墙与白名单**：接收端设置了 IP 白名单的，请放行 Webhook 设置页显示的出口 IP 段。
6. **签名校验**：每个请求都带有 `X-Pivot-Signature` 头（HMAC-SHA256）。签名校验失败的，请确认使用的是当前的签名密钥。

**温馨提示**：Webhook 按“至少一次”投递，偶尔会收到重复的回调，请用事件 ID 去重。
""",
        ),
        en=A(
            "Not receiving webhook callbacks",
            """
If you've set up a webhook (for example for order status changes) but callbacks aren't arriving, check these in
order:

1. **Delivery log**: go to **Settings → Developer platform → Webhooks**, open the endpoint and look at **Recent
   deliveries**. Each attempt shows the response code and how long it took.
2. **Timeouts**: your endpoint must return a 2xx within **5 seconds**. For slow work, return 200 first and process
   the event asynchronously.
3. **Paused after failures**: an endpoint that fails for 24 hours in a row is paused automatically and shows
   **Paused**. Once fixed, click **Re-enable**; you can **Resend** failed events from the delivery log.
4. **HTTPS certificate**: the endpoint needs a trusted certificate. Self-signed or expired certificates, or an
   incomplete chain, make every delivery fail.
5. **Firewalls and allow lists**: if your endpoint only accepts certain IPs, allow the outbound IP ranges shown on
   the Webhooks page.
6. **Signatures**: every request carries an `X-Pivot-Signature` header (HMAC-SHA256). If verification fails, make
   sure you're using the current signing secret.

**Good to know**: webhooks are delivered at least once, so you may occasionally receive the same event twice —
de-duplicate by event ID.
""",
        ),
    ),
)

# --- 现场服务 Field service ----------------------------------------------------------------------------------------

FIELD: tuple[KnowledgeTopic, ...] = (
    T(
        key="installation_booking",
        category="installation",
        zh=A(
            "如何预约上门安装？",
            """
购买 PD-200 收银机、PD-300 自助终端和 PD-X1 路由器，可享受**免费上门安装调试**（限中国大陆已开通服务的城市）。

**预约步骤**

1. 设备签收后，在“订单 → 我的订单”中点击“预约安装”，或提交工单选择“现场服务 → 上门安装”。
2. 填写门店地址、联系人、电话和期望日期；新店开业的，请注明开业日期。
3. 我们会在 1 个工作日内电话确认上门时间。一般城市 2–3 个工作日内可以上门，偏远地区需另行预约。

**上门前请准备**

- 设备放在安装位置附近，请不要提前拆封（便于核对序列号）；
- 安装位置附近有三孔插座，收银台到路由器的网线已布好，或提前告知需要布线；
- 门店 Wi-Fi 名称和密码；
- 管理后台的管理员账号，用于绑定设备。

**现场布线**：需要新布网线或调试多个点位的，工程师会先上门勘察并报价，布线费用另行结算。

**非营业时间上门**：可预约早上 8 点前或晚上 9 点后上门，请在预约时备注。
""",
        ),
        en=A(
            "Booking an on-site installation",
            """
**Free on-site installation and set-up** comes with the PD-200 POS, the PD-300 kiosk and the PD-X1 router, in the
mainland China cities we serve.

**How to book**

1. Once the devices are delivered, click **Book installation** on the order under **Orders → My orders**, or open a
   ticket under **Field service → Installation**.
2. Give the store address, a contact name and phone number, and your preferred date. For a new store, tell us the
   opening date.
3. We'll call you within 1 business day to confirm the visit. In most cities an engineer can come within 2–3
   business days; remote areas are scheduled separately.

**Before the engineer arrives**

- Keep the devices near where they'll be installed, still sealed, so the serial numbers can be checked.
- Make sure there's a grounded socket nearby and a network cable from the counter to the router — or tell us in
  advance that cabling is needed.
- Have the store's Wi-Fi name and password ready.
- Have an administrator account for the admin console, to register the devices.

**Cabling**: if new cables or several network points are needed, the engineer surveys the site first and gives you
a quote; cabling is charged separately.

**Outside opening hours**: visits before 8 am or after 9 pm can be booked — just add a note when you book.
""",
        ),
    ),
    T(
        key="onsite_repair",
        category="repair",
        zh=A(
            "申请上门维修与保修政策",
            """
**保修政策**

- 整机保修 **1 年**，主板、电源等核心部件保修 **2 年**，电池保修 6 个月，均自签收之日起计算。
- 人为损坏、进液、私自拆机，或使用非原装电源造成的损坏，不在免费保修范围内，可付费维修，工程师会先报价。
- 在管理后台“设备 → 保修查询”中输入序列号，可查看保修到期日。

**申请维修**

1. 先按《设备错误代码速查》自行排查，并导出诊断日志。
2. 提交工单，选择“现场服务 → 上门维修”，写明设备型号、序列号、错误代码和故障现象。
3. 技术支持会先远程诊断；确认需要上门的，我们在 1 个工作日内安排工程师，一般城市 48 小时内上门。
4. 需要更换备件的，备件到货后工程师会再次上门。维修进度可在工单中随时查看。

**备用机**：VIP 与战略客户在维修期间可申请备用机，保证门店正常营业。
""",
        ),
        en=A(
            "On-site repair and warranty",
            """
**Warranty**

- The whole device is covered for **1 year**, core parts such as the mainboard and power supply for **2 years**,
  and the battery for 6 months, all from the delivery date.
- Accidental damage, liquid damage, devices opened by someone other than us, and damage caused by a non-original
  power adapter aren't covered. We can still repair them for a fee, and the engineer quotes first.
- To see when a device's warranty ends, enter its serial number under **Devices → Warranty check** in the admin
  console.

**Requesting a repair**

1. Work through "Device error codes" first and export the diagnostic log.
2. Open a ticket under **Field service → On-site repair** with the model, serial number, error code and what
   happens.
3. Technical support diagnoses the device remotely first. If a visit is needed, we book an engineer within 1
   business day; in most cities they arrive within 48 hours.
4. If a part has to be replaced, the engineer comes back once it arrives. You can follow progress in the ticket at
   any time.

**Loan devices**: VIP and strategic customers can ask for a loan device while theirs is being repaired, so the store
keeps trading.
""",
        ),
    ),
    T(
        key="spare_parts_dispatch",
        category="repair",
        visibility="internal",
        draft=True,
        zh=A(
            "【内部】现场服务派单与备件调拨",
            """
1. 远程确认需要上门后，把工单转给“现场服务组”，填写设备型号、序列号、错误代码和门店地址。系统会按距离和技能推荐工程师（300 公里以内）。
2. 主管须在 2 个工作小时内确认派单，VIP 客户 1 小时内。工程师接单后电话联系客户约定时间，并记录在工单中。
3. 需要备件时，先在备件系统查询库存：本地仓有货的当天出库；本地缺货的从上海中心仓调拨，一般 2–3 个工作日到货。工单状态改为“等待备件”，并在内部备注中写明调拨单号。
4. 备件到货后 24 小时内安排二次上门。
5. 维修完成后，工程师上传维修单照片（含客户签字）；换下的旧件 7 天内寄回中心仓做故障分析。
6. 同一台设备 30 天内第二次报修的，需主管复核；第三次报修直接整机更换。
""",
        ),
        en=A(
            "[Internal] Dispatching field engineers and spare parts",
            """
1. Once a remote diagnosis shows a visit is needed, move the ticket to the Field service team with the model,
   serial number, error code and store address. The system suggests engineers by distance and skill (within
   300 km).
2. A supervisor confirms the dispatch within 2 business hours, or 1 hour for VIP customers. The engineer calls the
   customer to agree a time and records it in the ticket.
3. If a part is needed, check stock in the parts system first: parts in the local warehouse leave the same day;
   otherwise they're transferred from the Shanghai central warehouse, usually in 2–3 business days. Set the ticket
   to Waiting for parts and put the transfer number in an internal note.
4. Book the second visit within 24 hours of the part arriving.
5. After the repair, the engineer uploads a photo of the signed service report; replaced parts go back to the
   central warehouse within 7 days for failure analysis.
6. A second repair request for the same device within 30 days is reviewed by a supervisor; at the third, replace
   the whole unit.
""",
        ),
    ),
)

# --- 投诉与建议 Feedback -------------------------------------------------------------------------------------------

FEEDBACK: tuple[KnowledgeTopic, ...] = (
    T(
        key="complaint_policy",
        category="complaint",
        zh=A(
            "投诉处理流程与时限",
            """
我们重视每一条投诉。您可以通过工单、电话、邮件或微信提交投诉，我们承诺：

| 环节 | 时限 |
|---|---|
| 受理并首次回复 | 4 个工作小时内（VIP 客户 1 小时内） |
| 给出处理方案 | 2 个工作日内 |
| 处理完毕 | 一般不超过 7 个工作日 |

**处理流程**

1. 提交投诉时，请说明事情经过、相关的订单号或工单号，以及您希望的处理方式；有截图或录音的请一并附上。
2. 投诉由客服主管或资深顾问专人跟进，不会转回原处理人员。
3. 我们会核实情况（包括调取通话录音和处理记录），并与您沟通处理方案。
4. 方案落实后，我们会回访，确认您是否满意。

**对处理结果不满意？**

可以在工单中回复“申请复核”，由服务质量负责人在 3 个工作日内复核并答复您。
""",
        ),
        en=A(
            "How we handle complaints",
            """
We take every complaint seriously. You can complain through a ticket, by phone, by email or on WeChat, and we
commit to the following:

| Step | Within |
|---|---|
| Acknowledge and first reply | 4 business hours (1 hour for VIP customers) |
| Propose a resolution | 2 business days |
| Resolve | Usually 7 business days at most |

**What happens**

1. Tell us what happened, the order or ticket number involved, and how you'd like it put right. Attach any
   screenshots or recordings.
2. A support supervisor or senior advisor takes personal ownership of your complaint — it never goes back to the
   person who handled it before.
3. We look into it, including call recordings and case history, and talk the resolution through with you.
4. Once it's in place, we follow up to check you're satisfied.

**Not happy with the outcome?**

Reply "request a review" in the ticket and our service quality lead will review the case and answer within 3
business days.
""",
        ),
    ),
    T(
        key="escalation_rules",
        category="complaint",
        visibility="internal",
        zh=A(
            "【内部】工单升级规则与 VIP 响应承诺",
            """
**响应承诺（以合同为准）**

| 客户等级 | 首次响应 | 紧急问题 |
|---|---|---|
| 战略客户 | 30 分钟（7×24） | 立即电话联系 |
| VIP | 1 小时 | 30 分钟 |
| 普通客户 | 4 个工作小时 | 2 个工作小时 |

**以下情况必须升级给主管**

1. 客户提到“投诉”“曝光”“12315”“律师”等字眼，或情绪明显激动；
2. 同一问题 7 天内第 2 次来访，或同一设备 30 天内第 3 次报修；
3. VIP 或战略客户的任何投诉，或提到续约、解约；
4. 多家门店同时受影响的故障；
5. 退款或补偿金额超出本人额度。

**如何升级**：把工单转给“资深顾问”组，优先级至少设为“高”，并在内部备注中用三句话写清：发生了什么、客户要什么、我们已经做了什么。

**补偿标准**（主管可直接批准）：配送延误或多次报修，可给予 ¥50–200 优惠券或 6–12 个月延保；超出标准的需客服负责人审批。
""",
        ),
        en=A(
            "[Internal] Escalation rules and VIP response commitments",
            """
**Response commitments (the contract prevails)**

| Customer tier | First response | Urgent issues |
|---|---|---|
| Strategic | 30 minutes (24×7) | Phone the customer immediately |
| VIP | 1 hour | 30 minutes |
| Standard | 4 business hours | 2 business hours |

**Always escalate to a supervisor when**

1. The customer mentions a complaint, going public, the consumer hotline (12315) or a lawyer, or is clearly upset.
2. It's the second contact about the same problem within 7 days, or the third repair of one device within 30 days.
3. A VIP or strategic customer complains about anything, or mentions renewal or cancellation.
4. A fault affects several stores at once.
5. A refund or compensation exceeds your own limit.

**How to escalate**: move the ticket to the Senior advisors team, set the priority to at least High, and write
three sentences in an internal note: what happened, what the customer wants, and what we've done so far.

**Compensation** (a supervisor may approve): for delivery delays or repeat repairs, a ¥50–200 coupon or a 6–12
month extended warranty. Anything more needs the head of support.
""",
        ),
    ),
    T(
        key="suggestion",
        category="suggestion",
        zh=A(
            "如何提交产品建议？",
            """
欢迎您提出功能建议，很多新功能都来自客户的反馈。

1. 提交工单，选择“投诉与建议 → 建议”。
2. 说明您希望实现什么、目前是怎么做的、这个功能能帮您解决什么问题；附上参考截图或示例更好。
3. 我们会在 3 个工作日内回复，把建议录入产品需求池，并告诉您需求编号（如 FR-2231）。
4. 产品团队每月评审一次需求池。建议进入开发计划的，我们会在工单中告诉您；功能上线时也会通知您。

**温馨提示**

- 同一条建议被越多客户提出，优先级越高。同事有相同需求的，可以在同一工单中补充。
- 建议渠道不用于处理故障。设备故障、无法登录等紧急问题，请直接提交对应类别的工单，以免耽误处理。
- 已经上线的功能会在管理后台的“更新日志”中公布，您可以随时查看。
""",
        ),
        en=A(
            "How to send us a product suggestion",
            """
We love hearing your ideas — many of our features started as a customer's suggestion.

1. Open a ticket under **Feedback → Suggestions**.
2. Tell us what you'd like to be able to do, how you do it today, and what problem the feature would solve for you.
   Screenshots or examples help a lot.
3. We reply within 3 business days, add the suggestion to our product backlog and give you its reference (e.g.
   FR-2231).
4. Our product team reviews the backlog every month. If your suggestion is planned, we'll tell you in the ticket,
   and we'll let you know again when it ships.

**Good to know**

- The more customers ask for something, the higher it climbs. Colleagues who want the same thing can add to the same
  ticket.
- Suggestions aren't the place for faults. For urgent problems — a broken device, a login you can't get past —
  open a ticket in the right category so it isn't delayed.
- Everything we ship is listed in the **Changelog** in the admin console.
""",
        ),
    ),
)

# --- 答复模板 Solution templates (internal; the root-cause tree links to them by key) -------------------------------

TEMPLATES: tuple[KnowledgeTopic, ...] = (
    T(
        key="tpl_refund_timeline",
        category="refunds",
        visibility="internal",
        template=True,
        answers="refund_timeline",
        zh=A(
            "答复模板：退款到账时间",
            """
{{ requester.name }}您好，

感谢您的耐心等待。订单 {{ order.number }} 的退款已审核通过，订单当前状态为“{{ order.status }}”。款项将原路退回到您付款时使用的账户：

1. 微信支付、支付宝：1–3 个工作日到账；
2. 银行卡：3–5 个工作日到账；
3. 对公转账：5–7 个工作日退回原付款账户。

您可以在“订单 → 我的订单 → 退款详情”中查看退款流水号。超过以上时间仍未到账的，请直接回复本工单（#{{ ticket.number }}），我们会为您加急核查。

祝您生活愉快！
{{ agent.name }}
""",
        ),
        en=A(
            "Reply template: when your refund arrives",
            """
Hello {{ requester.name }},

Thank you for your patience. The refund for order {{ order.number }} has been approved, and the order's status is
now "{{ order.status }}". The money goes back to your original payment method:

1. WeChat Pay or Alipay: 1–3 business days
2. Debit or credit card: 3–5 business days
3. Bank transfer: 5–7 business days, back to the paying account

You'll find the refund reference under **Orders → My orders → Refund details**. If the money hasn't arrived after
that, just reply to this ticket (#{{ ticket.number }}) and we'll chase it for you.

Kind regards,
{{ agent.name }}
""",
        ),
    ),
    T(
        key="tpl_duplicate_charge",
        category="refunds",
        visibility="internal",
        template=True,
        answers="duplicate_charge",
        zh=A(
            "答复模板：重复扣款退回",
            """
{{ requester.name }}您好，

非常抱歉给您带来困扰。经核查，订单 {{ order.number }} 确实被重复扣款了一次，您只需支付一笔。多扣的款项我们已经提交退款，将**原路退回**，一般 3–5 个工作日到账，届时您可以在银行或支付平台的账单中看到一笔退款记录。

以后付款时如果页面长时间没有响应，请先到“订单 → 我的订单”查看订单状态，确认未支付后再重新付款，以免再次重复扣款。

退款到账前有任何疑问，请直接回复本工单（#{{ ticket.number }}）。

{{ agent.name }}
""",
        ),
        en=A(
            "Reply template: duplicate charge refunded",
            """
Hello {{ requester.name }},

I'm sorry for the trouble. I've checked, and order {{ order.number }} was indeed charged twice — you only need to
pay once. We've submitted a refund for the extra charge to your **original payment method**. It usually arrives
within 3–5 business days and will show as a refund on your bank or wallet statement.

If a payment page ever stops responding, please check the order under **Orders → My orders** before paying again,
so this doesn't happen a second time.

If you have any questions before the refund arrives, just reply to this ticket (#{{ ticket.number }}).

Kind regards,
{{ agent.name }}
""",
        ),
    ),
    T(
        key="tpl_invoice_reissue",
        category="invoices",
        visibility="internal",
        template=True,
        answers="invoice_reissue",
        zh=A(
            "答复模板：发票红冲重开",
            """
{{ requester.name }}您好，

您反馈的发票信息有误，我们已经处理完毕：

1. 原发票已开具红字发票冲销；
2. 已按您提供的正确信息重新开具发票，电子发票已发送到您的收票邮箱，也可以在订单 {{ order.number }} 详情页的“发票”中下载。

如果原发票是未认证的纸质发票，请在 7 天内寄回原件（寄回地址见订单详情中的“售后地址”），我们收到后会在工单中确认。新发票如仍有问题，请回复本工单（#{{ ticket.number }}）告诉我们。

{{ agent.name }}
""",
        ),
        en=A(
            "Reply template: invoice cancelled and reissued",
            """
Hello {{ requester.name }},

We've corrected the invoice you told us about:

1. The original invoice has been cancelled with a red-letter (credit) invoice.
2. A new invoice with the correct details has been issued and emailed to your invoicing address. You can also
   download it from the **Invoice** tab of order {{ order.number }}.

If the original was an uncertified paper invoice, please post it back to us within 7 days (the return address is
under **After-sales address** on the order page); we'll confirm in the ticket when it arrives. If anything on the new
invoice is still wrong, just reply to this ticket (#{{ ticket.number }}).

Kind regards,
{{ agent.name }}
""",
        ),
    ),
    T(
        key="tpl_remote_delay",
        category="shipping",
        visibility="internal",
        template=True,
        answers="remote_delay",
        zh=A(
            "答复模板：偏远地区配送延迟",
            """
{{ requester.name }}您好，

关于订单 {{ order.number }}（当前状态：{{ order.status }}），我们已经核查了物流：您的包裹已到达收货地的末端网点。由于该地区属于偏远地区，承运商需要按班次派送，时效比普通地区多 2–4 天。

我们已经为您：

1. 联系承运商，要求优先安排派送；
2. 登记了延误补偿，包裹签收后会发放到您的账户。

如果您着急使用，也可以联系末端网点自提，网点电话可在物流详情中查看。给您带来不便，我们深表歉意。

{{ agent.name }}
""",
        ),
        en=A(
            "Reply template: delivery delay in a remote area",
            """
Hello {{ requester.name }},

I've checked the tracking for order {{ order.number }} (current status: {{ order.status }}). Your parcel has reached
the local depot for your address. Because your area is a remote delivery area, the carrier delivers there on
scheduled runs, which takes 2–4 days longer than elsewhere.

Here's what we've done:

1. Asked the carrier to give your parcel priority.
2. Registered delay compensation for you, which is added to your account once the parcel is delivered.

If you need it sooner, you can collect it from the depot — its phone number is in the tracking details. I'm sorry
for the inconvenience.

Kind regards,
{{ agent.name }}
""",
        ),
    ),
    T(
        key="tpl_sorting_missed_scan",
        category="shipping",
        visibility="internal",
        template=True,
        answers="sorting_missed_scan",
        zh=A(
            "答复模板：分拣中心漏发",
            """
{{ requester.name }}您好，

非常抱歉让您久等了。经与承运商核查，订单 {{ order.number }} 的包裹在分拣中心被漏扫，没有随当天的班次发出，所以物流信息一直没有更新。

我们已经：

1. 要求分拣中心今天补发，并升级为加急配送；
2. 新的物流单号会通过短信通知您，并同步到订单详情中。

预计 1–3 天内送达。如果明天仍没有物流更新，请直接回复本工单（#{{ ticket.number }}），我们会立即从仓库为您重新发货。

{{ agent.name }}
""",
        ),
        en=A(
            "Reply template: parcel missed at the sorting centre",
            """
Hello {{ requester.name }},

I'm sorry you've had to wait. We've checked with the carrier: the parcel for order {{ order.number }} missed its
scan at the sorting centre and wasn't sent on with that day's run, which is why the tracking hasn't moved.

Here's what we've done:

1. Asked the sorting centre to send it today as express.
2. The new tracking number will reach you by text message and will appear on the order page.

It should arrive within 1–3 days. If there's still no tracking update tomorrow, just reply to this ticket
(#{{ ticket.number }}) and we'll ship a replacement from our warehouse straight away.

Kind regards,
{{ agent.name }}
""",
        ),
    ),
    T(
        key="tpl_password_reset",
        category="login",
        visibility="internal",
        template=True,
        answers="password_reset",
        zh=A(
            "答复模板：重设密码指引",
            """
{{ requester.name }}您好，

请按以下步骤重设密码：

1. 打开管理后台登录页，点击“忘记密码”；
2. 输入注册手机号，完成滑块验证；
3. 输入收到的 6 位短信验证码（10 分钟内有效），设置新密码（8–32 位，需同时包含字母和数字）。

收不到验证码的，请检查短信是否被手机安全软件拦截，或在该页面切换为“邮箱验证”。另外，连续输错密码 5 次账号会被锁定 30 分钟，请等待解锁后再试。

如仍无法登录，请回复本工单（#{{ ticket.number }}），我们会继续协助您。

{{ agent.name }}
""",
        ),
        en=A(
            "Reply template: resetting your password",
            """
Hello {{ requester.name }},

Here's how to reset your password:

1. Open the admin console's sign-in page and click **Forgot password**.
2. Enter the mobile number you registered with and complete the slider check.
3. Enter the 6-digit code we text you (valid for 10 minutes) and choose a new password of 8–32 characters with
   both letters and numbers.

If the code doesn't arrive, check whether a security app on your phone has filtered it, or switch to **Verify by
email** on the same page. Please note that 5 wrong passwords in a row lock the account for 30 minutes.

If you still can't sign in, reply to this ticket (#{{ ticket.number }}) and we'll keep helping.

Kind regards,
{{ agent.name }}
""",
        ),
    ),
    T(
        key="tpl_controller_reset",
        category="device",
        visibility="internal",
        template=True,
        answers="controller_reset",
        zh=A(
            "答复模板：重置控制器",
            """
{{ requester.name }}您好，

根据您描述的情况，您的 {{ entity.device_model }} 需要重置控制器。重置不会删除订单和收银数据，请按以下步骤操作：

1. 在“设置 → 关于”中查看固件版本。**固件低于 2.3 的，请先进入“设置 → 维护 → 清除缓存”**，等待提示清除完成；
2. 进入“设置 → 维护 → 重置控制器”，输入管理员密码后点击“确认重置”；
3. 设备会自动重启，约需 2 分钟，重启后请重新连接网络。

屏幕无法操作的，可以关机后用卡针长按背面的 RESET 孔 5 秒再开机。操作后仍然报错的，请在“设置 → 关于 → 导出日志”中导出诊断日志，回复到本工单（#{{ ticket.number }}）。

{{ agent.name }}
""",
        ),
        en=A(
            "Reply template: resetting the controller",
            """
Hello {{ requester.name }},

From what you describe, the controller of your {{ entity.device_model }} needs a reset. It won't delete any orders
or sales data. Please:

1. Check the firmware version under **Settings → About**. **If it's older than 2.3, first go to Settings →
   Maintenance → Clear cache** and wait until it says the cache is cleared.
2. Go to **Settings → Maintenance → Reset controller**, enter the administrator password and tap **Confirm reset**.
3. The device restarts by itself in about 2 minutes; then reconnect it to the network.

If the screen doesn't respond, switch the device off, hold the RESET pinhole on the back for 5 seconds, and switch
it on again. If the error comes back, export the diagnostic log (**Settings → About → Export log**) and attach it to
this ticket (#{{ ticket.number }}).

Kind regards,
{{ agent.name }}
""",
        ),
    ),
    T(
        key="tpl_licence_expired",
        category="software",
        visibility="internal",
        template=True,
        answers="licence_expired",
        zh=A(
            "答复模板：软件授权失效",
            """
{{ requester.name }}您好，

门店客户端提示“软件授权失效”，请按以下步骤处理：

1. 打开客户端的“设置 → 授权”，点击“重新激活”，输入授权码（可在管理后台“设置 → 订阅与授权”中复制）；
2. 提示“授权已被占用”的，请先在旧电脑上点击“注销授权”，或在后台的设备列表中解绑；
3. **如果您使用的是 Mac**，还需要在“系统设置 → 网络 → 防火墙 → 选项”中添加 Pivot 门店客户端，并设为允许传入连接，否则客户端无法连接授权服务器；
4. 完成后重启客户端。

如果仍提示授权失效，请截图回复本工单（#{{ ticket.number }}），我们会远程协助您处理。

{{ agent.name }}
""",
        ),
        en=A(
            "Reply template: software licence no longer valid",
            """
Hello {{ requester.name }},

To fix the "Licence invalid" message in the desktop app:

1. Open **Settings → Licence** in the app, click **Reactivate** and enter your licence key (copy it from
   **Settings → Subscription & licences** in the admin console).
2. If it says the licence is already in use, click **Deactivate licence** on the old computer first, or unbind
   that computer from the device list in the admin console.
3. **If you're on a Mac**, also add Pivot Store under **System Settings → Network → Firewall → Options** and allow
   incoming connections; otherwise the app can't reach the licence server.
4. Restart the app.

If it still says the licence is invalid, reply to this ticket (#{{ ticket.number }}) with a screenshot and we'll
help you remotely.

Kind regards,
{{ agent.name }}
""",
        ),
    ),
)

TOPICS: tuple[KnowledgeTopic, ...] = BILLING + ORDERS + ACCOUNT + TECHNICAL + FIELD + FEEDBACK + TEMPLATES
